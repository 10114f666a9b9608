"""Turn the code of a model's answer into minimal edits of the project's files.

A model answers with whole functions, whole classes, whole modules or unified diffs.
Validation and review work best on small edits, so a Python block replaces only the
definitions it names (matched by qualified name, such as `gcd` or `Stack.push`), and
every byte outside them stays as it was. New helpers that the replaced code uses are
inserted before the first replaced definition. The replacement keeps the file's newline
style and indentation unit, and is re-indented to the place of the definition it
replaces, so a method written at column 0 lands inside its class.

A diff is applied by finding its context and removed lines in the file, so wrong hunk
line numbers, trailing blanks and missing `a/` `b/` prefixes do not matter.

`map_fix` never raises on a bad answer. It returns a `FixResult` whose `reason` tells the
user, in their locale, why the answer gives no usable fix.
"""

from __future__ import annotations

import ast
import logging
import os
import re
import textwrap
from dataclasses import dataclass, field

from ..engine.edits import SourceText
from ..engine.localize import is_test_file
from ..i18n import translate
from .answer import CodeBlock, ParsedAnswer

log = logging.getLogger(__name__)

_DEFINITION_LINE = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+\w", re.MULTILINE)
_HUNK_HEADER = re.compile(r"^@@ -(?P<old>\d+)(?:,\d+)? \+(?P<new>\d+)(?:,\d+)? @@")
_DefinitionNode = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

# When no fix is usable, the reason shown is the first of these that occurred: a problem
# early in the list explains the failure better than the ones after it.
_PRIORITY = ("truncated", "diff_mismatch", "diff_file_operation", "test_edit", "outside_root",
             "unknown_file", "ambiguous", "result_invalid", "syntax_error", "fragment",
             "no_change", "usage_only", "cut_off", "no_code")


@dataclass
class FixResult:
    """The edits that a model's answer makes, or why it makes none."""

    edits: dict[str, str] = field(default_factory=dict)  # absolute path -> complete new text
    reason: str = ""  # localized text, "" when the edits are usable
    reason_key: str = ""  # the message key of `reason`, for statistics and tests
    # Qualified names replaced ("gcd", "Stack.push", or "LIMIT" for a constant). A
    # replaced file, or a diff that changes no definition, is named by its path.
    replaced: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)  # qualified names inserted, e.g. helpers
    notes: list[str] = field(default_factory=list)  # localized remarks on parts of the answer left out

    @property
    def ok(self) -> bool:
        return bool(self.edits) and not self.reason


@dataclass(frozen=True)
class _Problem:
    key: str  # message key suffix, one of _PRIORITY
    fields: dict[str, object]


class _DiffMismatch(Exception):
    def __init__(self, problem: _Problem) -> None:
        super().__init__(problem.key)
        self.problem = problem


def map_fix(answer: ParsedAnswer, *, sources: dict[str, str], target_file: str, root: str,
            allow_test_edits: bool = False, locale: str = "en", test_file: str = "") -> FixResult:
    """Map the answer's Python blocks and diffs onto `sources` and return the new texts.

    `sources` maps the absolute path of every project file the failing test executed to
    its current text. `target_file` is the file most likely at fault. Code that names no
    existing definition goes there, and a block that looks like a whole module replaces
    it. `test_file` (absolute, or relative to `root`) is the failing test's file, which
    is never edited unless `allow_test_edits` is set, like every file that pytest
    conventions mark as a test.
    """
    mapper = _Mapper(sources, target_file, root, allow_test_edits, test_file)
    blocks = [block for block in answer.blocks if block.kind in ("python", "diff")]
    if not blocks:
        return _rejected("cut_off" if answer.truncated else "no_code", {}, locale)
    for block in blocks:
        if not block.complete and (block.kind == "diff" or _DEFINITION_LINE.search(block.text)):
            return _rejected("truncated", {}, locale)

    try:
        for block in blocks:
            if not block.complete:
                continue  # usage code cut off after the fix; the fix itself is whole
            if block.kind == "diff":
                mapper.apply_diff(block)
            else:
                mapper.apply_python(block)
    except _DiffMismatch as mismatch:
        return _rejected(mismatch.problem.key, mismatch.problem.fields, locale)

    mapper.insert_new_definitions()
    edits = mapper.changed_files()
    invalid = mapper.invalid_result(edits)
    if invalid is not None:
        return _rejected(invalid.key, invalid.fields, locale)
    if not edits:
        problem = min(mapper.problems or [_Problem("usage_only", {})],
                      key=lambda item: _PRIORITY.index(item.key))
        if problem.key == "no_change":
            names = dict.fromkeys(str(item.fields["names"]) for item in mapper.problems if item.key == "no_change")
            problem = _Problem("no_change", {"names": ", ".join(names)})
        return _rejected(problem.key, problem.fields, locale)
    notes = [translate(f"model.answer.{problem.key}", locale, **problem.fields)
             for problem in mapper.problems if problem.key in ("test_edit", "outside_root", "unknown_file")]
    return FixResult(edits=edits, replaced=mapper.replaced, added=mapper.added, notes=notes)


def _rejected(key: str, fields: dict[str, object], locale: str) -> FixResult:
    log.info("model answer has no usable fix: %s %s", key, fields)
    return FixResult(reason=translate(f"model.answer.{key}", locale, **fields), reason_key=f"model.answer.{key}")


# ---------------------------------------------------------------------------------------
# Definitions in project files


@dataclass(frozen=True)
class _Located:
    """A definition in a file's text: its node and its whole lines, decorators included."""

    qualname: str
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    first_line: int  # 1-based, the first decorator's line when there is one
    last_line: int


def _definitions(tree: ast.Module) -> dict[str, _Located]:
    """Index top-level functions and classes, and the members of classes, by qualified name.

    Functions nested in functions are part of their enclosing function and not indexed.
    """
    found: dict[str, _Located] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, _DefinitionNode):
                qualname = prefix + node.name
                found[qualname] = _Located(qualname, node, _first_line(node), node.end_lineno or node.lineno)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, qualname + ".")

    visit(tree.body, "")
    return found


def _first_line(node: ast.AST) -> int:
    lines = [node.lineno] + [decorator.lineno for decorator in getattr(node, "decorator_list", [])]
    return min(lines)


def _same_code(a: ast.AST, b: ast.AST) -> bool:
    return ast.dump(a, include_attributes=False) == ast.dump(b, include_attributes=False)


def _newline(text: str) -> str:
    if "\r\n" in text:
        return "\r\n"
    if "\r" in text:
        return "\r"
    return "\n"


def _indent_unit(tree: ast.Module, text: SourceText) -> str:
    """Return the indentation one level adds in this code, from its first compound statement."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.stmt) and isinstance(body, list) and body and body[0].lineno != node.lineno:
            outer = _leading(text.line_text(node.lineno))
            inner = _leading(text.line_text(body[0].lineno))
            if inner.startswith(outer) and len(inner) > len(outer):
                return inner[len(outer):]
    return ""


def _leading(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def _string_lines(node: ast.AST) -> set[int]:
    """Return the 1-based lines that begin inside a multi-line string literal of `node`.

    Re-indenting such a line would change the string's value. Docstrings are left out,
    because their indentation is not part of what they mean (see `inspect.cleandoc`).
    """
    docstrings: set[int] = set()
    for owner in ast.walk(node):
        body = getattr(owner, "body", None)
        if (isinstance(owner, (ast.Module, *_DefinitionNode)) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            docstrings.add(id(body[0].value))
    protected: set[int] = set()
    for item in ast.walk(node):
        if isinstance(item, (ast.Constant, ast.JoinedStr)) and id(item) not in docstrings:
            if isinstance(item, ast.Constant) and not isinstance(item.value, (str, bytes)):
                continue
            if item.end_lineno and item.end_lineno > item.lineno:
                protected.update(range(item.lineno + 1, item.end_lineno + 1))
    return protected


@dataclass
class _File:
    """A project file being edited: its original text and the text with the edits so far."""

    path: str
    original: str
    tree: ast.Module
    text: str = ""
    newline: str = "\n"
    unit: str = "    "

    original_definitions: dict[str, _Located] = field(init=False)

    def __post_init__(self) -> None:
        self.text = self.original
        self.newline = _newline(self.original)
        self.unit = _indent_unit(self.tree, SourceText(self.original)) or "    "
        self.original_definitions = _definitions(self.tree)

    def current(self) -> tuple[SourceText, dict[str, _Located]]:
        """Return the current text and its definitions; none when an edit broke the syntax."""
        try:
            tree = ast.parse(self.text)
        except SyntaxError as exc:
            # `invalid_result` rejects the fix at the end; this only keeps mapping alive.
            log.error("mapped text of %s no longer parses: %s", self.path, exc)
            return SourceText(self.text), {}
        return SourceText(self.text), _definitions(tree)

    def replace_lines(self, first: int, last: int, lines: list[str]) -> None:
        """Replace whole lines `first`..`last` (1-based) by `lines`, keeping the last line's ending."""
        source = SourceText(self.text)
        start = source.line_starts[first - 1]
        last_text = source.line_text(last)
        end = source.line_starts[last - 1] + len(last_text.rstrip("\r\n"))
        self.text = self.text[:start] + self.newline.join(lines) + self.text[end:]

    def insert_lines(self, before: int, lines: list[str]) -> None:
        """Insert `lines` before line `before` (1-based); one past the last line appends."""
        source = SourceText(self.text)
        if before <= len(source.line_starts) and source.line_starts[before - 1] < len(self.text):
            offset = source.line_starts[before - 1]
            self.text = self.text[:offset] + "".join(line + self.newline for line in lines) + self.text[offset:]
            return
        ending = "" if not self.text or self.text.endswith(("\n", "\r")) else self.newline
        self.text = self.text + ending + self.newline.join(lines) + self.newline


# ---------------------------------------------------------------------------------------
# Code taken from the answer


@dataclass
class _Proposal:
    """A definition from the answer, as code at column 0 with LF newlines."""

    name: str  # qualified name as written in the block ("push", "Stack.push", "Stack")
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef  # parsed from `lines`
    lines: list[str]
    unit: str  # the block's indentation unit
    protected: set[int]  # 0-based lines of `lines` inside multi-line strings


def _proposal(name: str, node: ast.AST, block: SourceText, unit: str) -> _Proposal:
    first, last = _first_line(node), node.end_lineno or node.lineno  # type: ignore[attr-defined]
    column = len(_leading(block.line_text(node.lineno)))  # type: ignore[attr-defined]
    strings = _string_lines(node)
    lines, protected = [], set()
    for number in range(first, last + 1):
        line = block.line_text(number).rstrip("\r\n")
        if number in strings:
            protected.add(number - first)
            lines.append(line)
        else:
            lines.append(line[min(column, len(_leading(line))):])
    parsed = ast.parse("\n".join(lines)).body[0]
    return _Proposal(name, parsed, lines, unit, protected)  # type: ignore[arg-type]


def _render(proposal: _Proposal, prefix: str, unit: str) -> list[str]:
    """Return the proposal's lines in the file's indentation unit, indented by `prefix`."""
    out = []
    for index, line in enumerate(proposal.lines):
        if index in proposal.protected:
            out.append(line)
            continue
        if not line.strip():
            out.append("")
            continue
        leading = _leading(line)
        rest = line[len(leading):]
        if proposal.unit and unit and proposal.unit != unit:
            levels = 0
            while leading.startswith(proposal.unit):
                leading = leading[len(proposal.unit):]
                levels += 1
            leading = unit * levels + leading
        out.append(prefix + leading + rest.rstrip())
    return out


def _is_usage(node: ast.stmt) -> bool:
    """Tell whether a top-level statement only exercises the code (prints, asserts, calls)."""
    if isinstance(node, (ast.Expr, ast.Assert, ast.Pass)):
        return True
    if isinstance(node, ast.If) and _is_main_guard(node.test):
        return True
    if isinstance(node, (ast.For, ast.While)):
        return all(isinstance(item, (ast.Expr, ast.Assert, ast.Assign, ast.Pass)) for item in node.body)
    return False


def _is_main_guard(test: ast.expr) -> bool:
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(item, ast.Constant) and item.value == "__main__" for item in test.comparators))


def _is_fragment(text: str, tree: ast.Module) -> bool:
    """Tell whether definition-free code is lines cut out of a function, not usage code.

    Such code is indented as a whole, or contains statements that only make sense inside
    a function. `ast.parse` accepts a top-level `return`, and only compiling rejects it.
    """
    first = next((line for line in text.splitlines() if line.strip()), "")
    if first[:1] in (" ", "\t"):
        return True
    inside_only = (ast.Return, ast.Raise, ast.Break, ast.Continue, ast.Global, ast.Nonlocal)
    return any(isinstance(node, inside_only) for node in tree.body)


def _is_test_name(name: str) -> bool:
    return name.startswith("test_") or name.startswith("Test")


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    if isinstance(node, ast.Assign):
        return {target.id for target in node.targets if isinstance(target, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    if isinstance(node, _DefinitionNode):
        return {node.name}
    return set()


def _used_names(node: ast.AST) -> set[str]:
    """Return the names and attribute names `node` reads; `self._helper` counts as `_helper`."""
    names = set()
    for item in ast.walk(node):
        if isinstance(item, ast.Name):
            names.add(item.id)
        elif isinstance(item, ast.Attribute):
            names.add(item.attr)
    return names


# ---------------------------------------------------------------------------------------
# Mapping


@dataclass
class _Pending:
    """A new top-level statement (helper, constant, import) waiting for its place."""

    path: str
    name: str
    proposal: _Proposal | None  # a definition, or None for a plain statement
    statement: list[str]  # the statement's lines at column 0, for plain statements
    kind: str  # "definition", "assignment" or "import"
    bound: set[str]  # the names the statement binds

    def is_needed(self, used: set[str]) -> bool:
        return bool(self.bound & used)


class _Mapper:
    def __init__(self, sources: dict[str, str], target_file: str, root: str,
                 allow_test_edits: bool, test_file: str) -> None:
        self.root = os.path.abspath(root)
        self.target = os.path.abspath(target_file) if target_file else ""
        self.allow_test_edits = allow_test_edits
        self.test_file = os.path.abspath(os.path.join(self.root, test_file)) if test_file else ""
        self.files: dict[str, _File] = {}
        for path, text in sources.items():
            try:
                tree = ast.parse(text)
            except (SyntaxError, ValueError) as exc:
                log.warning("cannot map model fixes onto %s, which does not parse: %s", path, exc)
                continue
            self.files[os.path.abspath(path)] = _File(os.path.abspath(path), text, tree)
        self.problems: list[_Problem] = []
        self.replaced: list[str] = []
        self.added: list[str] = []
        self.pending: dict[str, _Pending] = {}  # by "path::name", later blocks override
        self.anchor: dict[str, str] = {}  # path -> qualified name of the first replaced definition
        self.matched_existing = False  # some definition of the answer names an existing one

    # -- checks ------------------------------------------------------------------------

    def _relative(self, path: str) -> str:
        return os.path.relpath(path, self.root)

    def _editable(self, path: str) -> bool:
        """Tell whether `path` may be edited, recording the problem when it may not."""
        if os.path.commonpath([self.root, path]) != self.root:
            self.problems.append(_Problem("outside_root", {"path": path, "root": self.root}))
            return False
        if path not in self.files:
            self.problems.append(_Problem("unknown_file", {"path": self._relative(path)}))
            return False
        if not self.allow_test_edits and (is_test_file(path, self.root) or path == self.test_file):
            self.problems.append(_Problem("test_edit", {"path": self._relative(path)}))
            return False
        return True

    # -- Python blocks -----------------------------------------------------------------

    def apply_python(self, block: CodeBlock) -> None:
        code = textwrap.dedent(block.text)
        try:
            tree = ast.parse(code)
        except SyntaxError as exc:
            self._syntax_problem(code, exc)
            return
        except ValueError as exc:  # null bytes
            self.problems.append(_Problem("syntax_error", {"line": 1, "code": "", "error": str(exc)}))
            return
        source = SourceText(code)
        unit = _indent_unit(tree, source)
        definitions = [node for node in tree.body if isinstance(node, _DefinitionNode)]
        if not definitions:
            if _is_fragment(block.text, tree):
                first = next((line.strip() for line in code.splitlines() if line.strip()), "")
                self.problems.append(_Problem("fragment", {"code": first[:80]}))
            return  # usage code: prints, asserts, calls
        try:
            # Compiling (never running) also rejects what parsing accepts, such as a
            # `return` in a class body.
            compile(tree, "<answer>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            self._syntax_problem(code, exc)
            return

        home = self._home_file(block, definitions)
        if home and self._whole_module(tree, home) and self._needs_whole_file(tree, home):
            self._replace_file(home, code)
            return
        anchor_file = ""
        for node in definitions:
            if isinstance(node, ast.ClassDef):
                placed = self._place_class(node, source, unit, home, block)
            else:
                placed = self._place_function(node, source, unit, home, block)
            anchor_file = anchor_file or placed
        # Imports and constants of the block go where its definitions went.
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)):
                self._place_statement(node, source, anchor_file or home or self.target)

    def _syntax_problem(self, code: str, exc: SyntaxError) -> None:
        if not _DEFINITION_LINE.search(code):
            first = next((line.strip() for line in code.splitlines() if line.strip()), "")
            self.problems.append(_Problem("fragment", {"code": first[:80]}))
            return
        line = exc.lineno or 1
        lines = code.splitlines()
        text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        self.problems.append(_Problem("syntax_error", {"line": line, "code": text[:80], "error": exc.msg}))

    def _home_file(self, block: CodeBlock, definitions: list[ast.stmt]) -> str:
        """Return the file the block is about: its path hint, else where its names are defined."""
        if block.path_hint:
            hinted = self._match_path(block.path_hint)
            if hinted in self.files:  # models also name files that do not exist, like "solution.py"
                return hinted
        names = {node.name for node in definitions}  # type: ignore[attr-defined]
        if self.target in self.files and names & self.files[self.target].original_definitions.keys():
            return self.target
        for path, file in self.files.items():
            if names & file.original_definitions.keys():
                return path
        return self.target

    def _whole_module(self, tree: ast.Module, path: str) -> bool:
        """Tell whether the block defines most of the file's top-level functions and classes."""
        file = self.files.get(path)
        if file is None:
            return False
        top = {node.name for node in file.tree.body if isinstance(node, _DefinitionNode)}
        proposed = {node.name for node in tree.body if isinstance(node, _DefinitionNode)}
        return bool(top) and 2 * len(top & proposed) > len(top)

    def _needs_whole_file(self, tree: ast.Module, path: str) -> bool:
        """Tell whether a whole-module block changes statements that definitions cannot carry.

        Definitions, imports, simple assignments and usage code are mapped one by one.
        Any other new top-level statement (a module-level `try`, a changed loop that sets
        up data) can only be taken over by replacing the whole file.
        """
        original = {ast.dump(node, include_attributes=False) for node in self.files[path].tree.body}
        for node in tree.body:
            if isinstance(node, (*_DefinitionNode, ast.Import, ast.ImportFrom)) or _is_usage(node):
                continue
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and _bound_names(node):
                continue
            if ast.dump(node, include_attributes=False) not in original:
                return True
        return False

    def _replace_file(self, path: str, code: str) -> None:
        if not self._editable(path):
            return
        file = self.files[path]
        new_tree = ast.parse(code)
        if _same_code(new_tree, file.tree):
            self.problems.append(_Problem("no_change", {"names": os.path.basename(path)}))
            return
        file.text = code.replace("\n", file.newline)
        self.replaced.append(os.path.basename(path))

    def _place_function(self, node: ast.AST, source: SourceText, unit: str, home: str,
                        block: CodeBlock) -> str:
        """Replace the function the node names, or queue it as new; return the file used."""
        name = node.name  # type: ignore[attr-defined]
        proposal = _proposal(name, node, source, unit)
        resolved = self._resolve(name, home, block)
        if resolved is None:
            return ""
        path, qualname = resolved
        if qualname is None:
            if not _is_test_name(name):
                self._queue(path or self.target, name, proposal)
            return ""
        return self._replace(path, qualname, proposal)

    def _place_class(self, node: ast.ClassDef, source: SourceText, unit: str, home: str,
                     block: CodeBlock, prefix: str = "") -> str:
        qualname = prefix + node.name
        path = self._find(qualname, home, block)
        if path is None:
            if not prefix and not _is_test_name(node.name):
                self._queue(home or self.target, qualname, _proposal(qualname, node, source, unit))
            return ""
        original = self.files[path].original_definitions[qualname].node
        if self._whole_class(node, original):
            return self._replace(path, qualname, _proposal(qualname, node, source, unit))
        used = ""
        for member in node.body:
            if isinstance(member, ast.ClassDef):
                used = self._place_class(member, source, unit, home, block, qualname + ".") or used
            elif isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                member_name = f"{qualname}.{member.name}"
                proposal = _proposal(member_name, member, source, unit)
                if member_name in self.files[path].original_definitions:
                    used = self._replace(path, member_name, proposal) or used
                else:
                    self._queue(path, member_name, proposal)
        return used or path

    @staticmethod
    def _whole_class(proposed: ast.ClassDef, original: ast.ClassDef) -> bool:
        """Tell whether a class must replace the original as a whole.

        That is so when it changes the header (bases, keywords, decorators) or a class-level
        statement, and gives every original method. A partial class, usually only the fixed
        methods around a `...`, is mapped method by method.
        """
        def members(node: ast.ClassDef) -> set[str]:
            return {item.name for item in node.body if isinstance(item, _DefinitionNode)}

        def header(node: ast.ClassDef) -> list[str]:
            parts = [*node.bases, *node.keywords, *node.decorator_list]
            return [ast.dump(part, include_attributes=False) for part in parts]

        def statements(node: ast.ClassDef) -> list[str]:
            return [ast.dump(item, include_attributes=False) for item in node.body
                    if not isinstance(item, _DefinitionNode)]

        if not members(original) <= members(proposed):
            return False
        return header(proposed) != header(original) or statements(proposed) != statements(original)

    def _find(self, qualname: str, home: str, block: CodeBlock) -> str | None:
        """Return the file that defines `qualname`: the path hint's, the home file, then any."""
        order = []
        if block.path_hint:
            order.append(self._match_path(block.path_hint))
        order += [home, self.target]
        order += [path for path in self.files if not is_test_file(path, self.root)]
        order += list(self.files)
        for path in order:
            if path and path in self.files and qualname in self.files[path].original_definitions:
                return path
        return None

    def _resolve(self, name: str, home: str, block: CodeBlock) -> tuple[str, str | None] | None:
        """Find the definition a top-level function of the answer replaces.

        A top-level function of the same name comes first. Otherwise a method of that
        name in exactly one class counts, because models often give a method without its
        class. (path, None) means the function is new, and None that it is ambiguous.
        """
        path = self._find(name, home, block)
        if path is not None:
            return path, name
        methods = [(path, qualname) for path, file in self.files.items()
                   for qualname, located in file.original_definitions.items()
                   if "." in qualname and qualname.rsplit(".", 1)[1] == name
                   and not isinstance(located.node, ast.ClassDef)]
        preferred = [item for item in methods if item[0] in (home, self.target)] or methods
        if len(preferred) == 1:
            return preferred[0]
        if len(preferred) > 1:
            places = ", ".join(f"{self._relative(path)}:{qualname}" for path, qualname in preferred)
            self.problems.append(_Problem("ambiguous", {"name": name, "count": len(preferred), "places": places}))
            return None
        return home, None

    def _match_path(self, hint: str) -> str:
        """Return the absolute path a path from the answer means; it may be no source file.

        The path may be absolute, relative to the root, or a unique suffix of a source
        file's path ("gcd.py" for "<root>/src/gcd.py"), with or without diff's a/ b/ prefix.
        """
        hint = hint.replace("\\", "/")
        if hint.startswith("./"):
            hint = hint[2:]
        if os.path.isabs(hint):
            return os.path.abspath(hint)
        tries = [hint] + ([hint[2:]] if hint.startswith(("a/", "b/")) else [])
        for relative in tries:
            exact = os.path.abspath(os.path.join(self.root, relative))
            if exact in self.files:
                return exact
        for relative in tries:
            matches = [path for path in self.files if path.replace(os.sep, "/").endswith("/" + relative)]
            if len(matches) == 1:
                return matches[0]
        return os.path.abspath(os.path.join(self.root, tries[-1]))

    def _replace(self, path: str, qualname: str, proposal: _Proposal) -> str:
        """Replace `qualname` in `path` by the proposal unless it is unchanged; return the path."""
        file = self.files[path]
        original = file.original_definitions[qualname]
        self.matched_existing = True
        if _same_code(proposal.node, original.node):
            self.problems.append(_Problem("no_change", {"names": qualname}))
            return ""
        if not self._editable(path):
            return ""
        source, current = file.current()
        located = current.get(qualname)
        if located is None:  # an earlier whole-class replacement dropped it
            log.info("%s is gone from %s after an earlier block; skipping its replacement", qualname, path)
            return ""
        prefix = _leading(source.line_text(located.first_line))
        file.replace_lines(located.first_line, located.last_line, _render(proposal, prefix, file.unit))
        if qualname not in self.replaced:
            self.replaced.append(qualname)
        self.anchor.setdefault(path, qualname)
        return path

    def _queue(self, path: str, name: str, proposal: _Proposal) -> None:
        self.pending[f"{path}::{name}"] = _Pending(path, name, proposal, [], "definition", {name.split(".")[-1]})

    def _place_statement(self, node: ast.stmt, source: SourceText, path: str) -> None:
        """Handle an import or a simple assignment of a block; others are usage code."""
        file = self.files.get(path)
        if file is None:
            return
        bound = _bound_names(node)
        if not bound:
            return
        lines = [source.line_text(number).rstrip("\r\n")
                 for number in range(node.lineno, (node.end_lineno or node.lineno) + 1)]
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            known = set().union(*(_bound_names(item) for item in file.tree.body))
            if not bound <= known:
                self.pending[f"{path}::import {' '.join(sorted(bound))}"] = _Pending(
                    path, ", ".join(sorted(bound)), None, lines, "import", bound)
            return
        existing = [item for item in file.tree.body
                    if isinstance(item, (ast.Assign, ast.AnnAssign)) and _bound_names(item) == bound]
        if existing:
            if not _same_code(existing[-1], node) and self._editable(path):
                self._replace_statement(file, existing[-1], lines, ", ".join(sorted(bound)))
            return
        name = ", ".join(sorted(bound))
        self.pending[f"{path}::{name}"] = _Pending(path, name, None, lines, "assignment", bound)

    def _replace_statement(self, file: _File, original: ast.stmt, lines: list[str], name: str) -> None:
        """Replace a top-level assignment, found again in the current text by its code."""
        current = ast.parse(file.text)
        for node in current.body:
            if _same_code(node, original):
                file.replace_lines(node.lineno, node.end_lineno or node.lineno, lines)
                if name not in self.replaced:
                    self.replaced.append(name)
                return

    # -- new definitions ---------------------------------------------------------------

    def insert_new_definitions(self) -> None:
        """Insert the new helpers, constants and imports that the changed code uses.

        When the answer replaced nothing, every new function or class goes into the
        target file, because then the new code itself is the fix (say, a function the
        tests call that does not exist yet).
        """
        if not self.pending or (self.matched_existing and not self.replaced):
            return  # new code beside an unchanged original fixes nothing
        needed = self._needed_names()
        for item in self.pending.values():
            if item.is_needed(needed) and self._editable(item.path):
                self._insert(item)

    def _needed_names(self) -> set[str]:
        """Return the names that replaced code uses, followed through the new definitions."""
        used: set[str] = set()
        for path, file in self.files.items():
            if file.text == file.original:
                continue
            _, current = file.current()
            for qualname in self.replaced:
                if qualname in current:
                    used |= _used_names(current[qualname].node)
        if not self.replaced:
            used = {item.name for item in self.pending.values() if item.kind == "definition"}
        changed = True
        while changed:
            changed = False
            for item in self.pending.values():
                if item.bound & used and item.proposal is not None:
                    extra = _used_names(item.proposal.node) - used
                    if extra:
                        used |= extra
                        changed = True
        return used

    def _insert(self, item: _Pending) -> None:
        file = self.files[item.path]
        source, current = file.current()
        tree = ast.parse(file.text)
        if item.kind == "import":
            before = self._import_line(tree)
            following = source.line_text(before).strip() if before <= len(source.line_starts) else ""
            blank: list[str] = []
            if following and not following.startswith(("import ", "from ")):
                # PEP 8: two blank lines before a definition, one before other code.
                blank = [""] * (2 if following.startswith(("def ", "class ", "@", "async ")) else 1)
            file.insert_lines(before, item.statement + blank)
            return
        if item.proposal is not None and "." in item.name:
            self._insert_member(file, item, source, current)
            return
        lines = (_render(item.proposal, "", file.unit) if item.proposal is not None else item.statement)
        before = self._top_level_anchor(item.path, tree, current)
        if before is None:
            # Nothing replaced in this file: after its last definition, before trailing
            # module code such as a docstring or a main guard.
            definitions = [node for node in tree.body if isinstance(node, _DefinitionNode)]
            after = (definitions[-1].end_lineno or 0) if definitions else len(source.line_starts)
            file.insert_lines(after + 1, [""] * 2 + lines)
        else:
            file.insert_lines(before, lines + [""] * 2)
        self.added.append(item.name)

    def _top_level_anchor(self, path: str, tree: ast.Module, current: dict[str, _Located]) -> int | None:
        """Return the first line of the top-level definition that contains the first replaced one."""
        anchor = self.anchor.get(path)
        if anchor is None or anchor.split(".")[0] not in current:
            return None
        return current[anchor.split(".")[0]].first_line

    def _insert_member(self, file: _File, item: _Pending, source: SourceText,
                       current: dict[str, _Located]) -> None:
        owner = item.name.rsplit(".", 1)[0]
        if owner not in current:
            return
        members = [located for qualname, located in current.items()
                   if qualname.rsplit(".", 1)[0] == owner and qualname.count(".") == owner.count(".") + 1]
        replaced = [located for located in members if located.qualname in self.replaced]
        body = current[owner].node.body
        prefix = _leading(source.line_text(body[0].lineno))
        lines = _render(item.proposal, prefix, file.unit)  # type: ignore[arg-type]
        if replaced:
            file.insert_lines(replaced[0].first_line, lines + [""])
        else:
            last = max(node.end_lineno or node.lineno for node in body)
            file.insert_lines(last + 1, [""] + lines)
        self.added.append(item.name)

    @staticmethod
    def _import_line(tree: ast.Module) -> int:
        """Return the line before which a new import goes: after the imports, else the docstring."""
        after = 0
        for index, node in enumerate(tree.body):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                after = node.end_lineno or node.lineno
            elif index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                after = node.end_lineno or node.lineno
            else:
                break
        return after + 1

    # -- diffs -------------------------------------------------------------------------

    def apply_diff(self, block: CodeBlock) -> None:
        for patch in _parse_diff(block.text):
            path = self._diff_path(patch)
            if path is None or not self._editable(path):
                continue
            file = self.files[path]
            text = file.text
            for number, hunk in enumerate(patch.hunks, start=1):
                text = _apply_hunk(text, hunk, file.newline, number, self._relative(path))
            if text == file.text:
                self.problems.append(_Problem("no_change", {"names": self._relative(path)}))
                continue
            file.text = text
            for name in _changed_definitions(file.tree, text) or [self._relative(path)]:
                if name not in self.replaced:
                    self.replaced.append(name)

    def _diff_path(self, patch: _Patch) -> str | None:
        old, new = patch.old_path, patch.new_path
        if old == "/dev/null" or new == "/dev/null":
            shown = new if old == "/dev/null" else old
            self.problems.append(_Problem("diff_file_operation", {"path": _strip_prefix(shown)}))
            return None
        named = new or old
        if not named:
            return self.target or None
        return self._match_path(named)

    # -- results -----------------------------------------------------------------------

    def changed_files(self) -> dict[str, str]:
        return {path: file.text for path, file in self.files.items() if file.text != file.original}

    @staticmethod
    def invalid_result(edits: dict[str, str]) -> _Problem | None:
        """Check that each new text parses, so a mapping mistake never reaches the sandbox."""
        for path, text in edits.items():
            try:
                compile(text, path, "exec", dont_inherit=True)
            except SyntaxError as exc:
                log.error("mapped model fix for %s does not parse: %s", path, exc)
                return _Problem("result_invalid", {"path": os.path.basename(path), "line": exc.lineno or 0,
                                                   "error": exc.msg})
        return None


# ---------------------------------------------------------------------------------------
# Unified diffs


@dataclass
class _Hunk:
    old_start: int  # 1-based line number the hunk claims, 0 when it gives none
    header: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # (" ", "-" or "+", text)


@dataclass
class _Patch:
    old_path: str = ""
    new_path: str = ""
    hunks: list[_Hunk] = field(default_factory=list)


def _strip_prefix(path: str) -> str:
    path = path.split("\t", 1)[0].strip()
    return path[2:] if path.startswith(("a/", "b/")) else path


def _parse_diff(text: str) -> list[_Patch]:
    """Read a unified diff, also one without file headers or without `@@` lines."""
    patches: list[_Patch] = []
    patch: _Patch | None = None
    hunk: _Hunk | None = None
    for line in text.split("\n"):
        if line.startswith("diff --git "):
            patch, hunk = _Patch(), None
            patches.append(patch)
            continue
        if line.startswith("--- ") and (hunk is None or not hunk.lines or line[4:].strip().endswith(".py")):
            if patch is None or patch.hunks or patch.old_path:
                patch = _Patch()
                patches.append(patch)
            patch.old_path, hunk = _strip_prefix(line[4:]), None
            continue
        if line.startswith("+++ ") and patch is not None and hunk is None:
            patch.new_path = _strip_prefix(line[4:])
            continue
        header = _HUNK_HEADER.match(line)
        if header or line.startswith("@@"):
            if patch is None:
                patch = _Patch()
                patches.append(patch)
            hunk = _Hunk(int(header.group("old")) if header else 0, line.strip())
            patch.hunks.append(hunk)
            continue
        if line.startswith(("index ", "new file mode", "deleted file mode", "\\")):
            continue
        if line[:1] in (" ", "-", "+") or line == "":
            if hunk is None:
                # A diff without @@ lines: its body is one hunk at an unknown place.
                if patch is None:
                    patch = _Patch()
                    patches.append(patch)
                hunk = _Hunk(0, "")
                patch.hunks.append(hunk)
            hunk.lines.append((line[:1] or " ", line[1:]))
    for patch in patches:
        for item in patch.hunks:
            while item.lines and item.lines[-1] == (" ", ""):
                item.lines.pop()  # the blank line that ends the block, not an empty context line
    return [patch for patch in patches if patch.hunks]


def _changed_definitions(original: ast.Module, text: str) -> list[str]:
    """Return the innermost definitions whose code differs between `original` and `text`.

    A class counts only when something outside its changed methods changed too.
    """
    try:
        new = _definitions(ast.parse(text))
    except SyntaxError:
        return []
    old = _definitions(original)
    changed = [name for name, located in old.items()
               if name in new and not _same_code(located.node, new[name].node)]
    changed += [name for name in new if name not in old]
    innermost = []
    for name in changed:
        children = [other for other in changed if other.startswith(name + ".")]
        if children and isinstance(old.get(name, new[name]).node, ast.ClassDef) and name in old:
            stripped_old = [item for item in old[name].node.body if not isinstance(item, _DefinitionNode)]
            stripped_new = [item for item in new[name].node.body if not isinstance(item, _DefinitionNode)]
            if [ast.dump(item, include_attributes=False) for item in stripped_old] == \
                    [ast.dump(item, include_attributes=False) for item in stripped_new]:
                continue
        innermost.append(name)
    return innermost


def _apply_hunk(text: str, hunk: _Hunk, newline: str, number: int, path: str) -> str:
    """Apply one hunk by matching its old lines in `text`; raise _DiffMismatch when they are absent.

    The match ignores trailing blanks. Up to two context lines at either end may be
    dropped (like patch's fuzz factor), because models misquote the lines around a change.
    """
    source = SourceText(text)
    lines = [source.line_text(index + 1) for index in range(len(source.line_starts))]
    for fuzz in range(0, 3):
        trimmed = _trim_context(hunk.lines, fuzz)
        if trimmed is None:
            break
        old = [content for tag, content in trimmed if tag != "+"]
        if not old:
            if fuzz == 0 and hunk.old_start:
                # A hunk that only adds lines ("@@ -5,0 +6,2 @@") goes after its line number.
                after = min(hunk.old_start, len(lines))
                added = [content.rstrip() + newline for _tag, content in trimmed]
                if after and not lines[after - 1].endswith(("\n", "\r")):
                    lines[after - 1] += newline
                return "".join(lines[:after] + added + lines[after:])
            continue
        positions = [start for start in range(len(lines) - len(old) + 1)
                     if all(lines[start + offset].rstrip() == old[offset].rstrip() for offset in range(len(old)))]
        if positions:
            start = min(positions, key=lambda position: abs(position + 1 - hunk.old_start))
            replacement = []
            cursor = start
            for tag, content in trimmed:
                if tag == " ":
                    replacement.append(lines[cursor])  # the file's own bytes, trailing blanks included
                    cursor += 1
                elif tag == "-":
                    cursor += 1
                else:
                    replacement.append(content.rstrip() + newline)
            for index in range(len(replacement) - 1):
                if not replacement[index].endswith(("\n", "\r")):
                    replacement[index] += newline  # the old last line, now followed by more
            if cursor == len(lines) and not lines[-1].endswith(("\n", "\r")) and replacement:
                # The hunk reaches the file's last line, which has no newline: neither may the result.
                replacement[-1] = replacement[-1].rstrip("\r\n")
            lines[start:cursor] = replacement
            return "".join(lines)
    first = next((content for tag, content in hunk.lines if tag != "+"), "")
    raise _DiffMismatch(_Problem("diff_mismatch", {"path": path, "hunk": number, "line": first.strip()[:80]}))


def _trim_context(lines: list[tuple[str, str]], count: int) -> list[tuple[str, str]] | None:
    trimmed = list(lines)
    for _ in range(count):
        changed = False
        if trimmed and trimmed[0][0] == " ":
            trimmed.pop(0)
            changed = True
        if trimmed and trimmed[-1][0] == " ":
            trimmed.pop()
            changed = True
        if not changed:
            return None
    return trimmed
