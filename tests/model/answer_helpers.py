"""QuixBugs originals and checks shared by the answer and fixmap tests."""

import ast
import os
import types

from benchdata import QUIXBUGS

ROOT = "/project"  # map_fix works on texts only, so the project need not exist on disk


def available() -> bool:
    return QUIXBUGS.is_dir()


def buggy(name: str) -> str:
    """Return the text of a task's buggy program (never its fixed version)."""
    return (QUIXBUGS / name / "buggy.py").read_text(encoding="utf-8")


def program_path(name: str) -> str:
    return os.path.join(ROOT, f"{name}.py")


def task_sources(name: str) -> dict[str, str]:
    """Return the sources a failing test of task `name` runs: the program and its test file."""
    test = (QUIXBUGS / name / f"test_{name}.py").read_text(encoding="utf-8")
    return {program_path(name): buggy(name), os.path.join(ROOT, f"test_{name}.py"): test}


def load(text: str, name: str = "fixed") -> types.ModuleType:
    """Execute `text` as a fresh module, so a mapped fix can be called."""
    module = types.ModuleType(name)
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module


def definition_lines(text: str) -> dict[str, tuple[int, int]]:
    """Map qualified names of top-level definitions and class members to 1-based line ranges."""
    found: dict[str, tuple[int, int]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                first = min([node.lineno] + [item.lineno for item in node.decorator_list])
                found[prefix + node.name] = (first, node.end_lineno)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{prefix}{node.name}.")

    visit(ast.parse(text).body, "")
    return found


def without_definitions(text: str, names: list[str], dropped: list[str] = ()) -> str:
    """Return `text` with each named definition replaced by a placeholder line.

    Definitions in `dropped` (helpers a fix inserted) disappear with the blank lines after
    them, so that the rest can be compared byte for byte with the original.
    """
    lines = text.splitlines(keepends=True)
    spans = definition_lines(text)
    marks = {}
    for name in names:
        first, last = spans[name]
        marks[first] = (last, f"<{name}>\n")
    for name in dropped:
        first, last = spans[name]
        while last < len(lines) and not lines[last].strip():
            last += 1
        marks[first] = (last, "")
    out = []
    number = 1
    while number <= len(lines):
        if number in marks:
            last, placeholder = marks[number]
            out.append(placeholder)
            number = last + 1
        else:
            out.append(lines[number - 1])
            number += 1
    return "".join(out)


def assert_only_definitions_changed(original: str, new: str, names: list[str], added: list[str] = ()) -> None:
    """Check that `new` equals `original` byte for byte outside the replaced definitions."""
    assert without_definitions(new, names, added) == without_definitions(original, names)
