"""Sandbox copies and validate_patch on QuixBugs tasks; the workspace is never written."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from runner_helpers import QUIXBUGS, quixbugs_task, tree_hash, write_project
from tracefix.server.runner import Sandbox, run_pytest, validate_patch

TASKS = ["gcd", "bucketsort", "flatten"]


@pytest.fixture(scope="module")
def tasks(tmp_path_factory, interpreter):
    """Each task staged as a project, with its failing tests from an untraced run."""
    staged = {}
    for name in TASKS:
        root = quixbugs_task(name, tmp_path_factory.mktemp(name))
        result = run_pytest(str(root), [], interpreter=interpreter, timeout=60)
        staged[name] = (root, result)
    return staged


@pytest.mark.parametrize("name", TASKS)
def test_failing_tests_found(tasks, name):
    _, result = tasks[name]
    assert result.failing(), result.output
    assert all(nodeid.startswith(f"test_{name}.py::") for nodeid in result.failing())


@pytest.mark.parametrize("name", TASKS)
def test_reference_fix_verified_buggy_rejected(tasks, interpreter, name):
    root, result = tasks[name]
    before = tree_hash(root)
    # The reference fix is only a known-good patch for this check.
    fixed = (QUIXBUGS / name / "fixed_min.py").read_text()
    buggy = (QUIXBUGS / name / "buggy.py").read_text()

    good = validate_patch(str(root), {f"{name}.py": fixed}, result.failing(), None,
                          interpreter=interpreter, timeout=60)
    bad = validate_patch(str(root), {f"{name}.py": buggy}, result.failing(), None,
                         interpreter=interpreter, timeout=60)

    assert good.verified, good.detail
    assert good.passed == good.total == len(result.outcomes)
    assert not bad.verified
    assert bad.passed < bad.total
    assert bad.detail.startswith("still failing")
    assert tree_hash(root) == before


def test_parallel_validations_do_not_mix(tasks, interpreter):
    root, result = tasks["gcd"]
    before = tree_hash(root)
    fixed = (QUIXBUGS / "gcd" / "fixed_min.py").read_text()
    buggy = (QUIXBUGS / "gcd" / "buggy.py").read_text()
    patches = [fixed, buggy, fixed, buggy]
    verdicts: list[bool | None] = [None] * len(patches)

    def check(index: int) -> None:
        verdicts[index] = validate_patch(
            str(root), {"gcd.py": patches[index]}, result.failing(), [],
            interpreter=interpreter, timeout=60,
        ).verified

    threads = [threading.Thread(target=check, args=(i,)) for i in range(len(patches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert verdicts == [True, False, True, False]
    assert tree_hash(root) == before


def test_neighbour_broken_by_patch(tmp_path, interpreter):
    root = write_project(tmp_path, {
        "shapes.py": """\
            def area(w, h):
                return w + h

            def perimeter(w, h):
                return 2 * (w + h)
            """,
        "test_shapes.py": """\
            from shapes import area, perimeter

            def test_area():
                assert area(2, 3) == 6

            def test_perimeter():
                assert perimeter(2, 3) == 10
            """,
    })
    breaks_neighbour = "def area(w, h):\n    return w * h\n\ndef perimeter(w, h):\n    return 0\n"
    result = validate_patch(str(root), {"shapes.py": breaks_neighbour},
                            ["test_shapes.py::test_area"], None,
                            interpreter=interpreter, timeout=60)
    assert not result.verified
    assert result.outcomes["test_shapes.py::test_area"].outcome == "passed"
    assert result.outcomes["test_shapes.py::test_perimeter"].outcome == "failed"
    assert result.detail.startswith("broke another test: test_shapes.py::test_perimeter")
    assert (result.passed, result.total) == (1, 2)


def test_sandbox_copy_skips_and_links(tmp_path):
    root = write_project(tmp_path / "project", {
        "pkg/mod.py": "X = 1\n",
        ".git/HEAD": "ref\n",
        ".venv/pyvenv.cfg": "home = /usr\n",
        "env2/pyvenv.cfg": "home = /usr\n",
        "pkg/__pycache__/mod.cpython-311.pyc": "",
        "node_modules/x.js": "",
        "build/out.txt": "",
        "pkg/build/keep.py": "",
    })
    outside = write_project(tmp_path / "outside", {"data.txt": "shared\n"})
    os.symlink("mod.py", root / "pkg" / "alias.py")
    os.symlink(str(root / "pkg"), root / "abs_pkg")
    os.symlink("../outside/data.txt", root / "data.txt")

    with Sandbox(str(root)) as sandbox:
        copy = Path(sandbox.path)
        assert not copy.is_relative_to(root)
        assert (copy / "pkg" / "mod.py").read_text() == "X = 1\n"
        assert (copy / "pkg" / "build" / "keep.py").exists()
        for skipped in (".git", ".venv", "env2", "pkg/__pycache__", "node_modules", "build"):
            assert not (copy / skipped).exists(), skipped
        assert os.readlink(copy / "pkg" / "alias.py") == "mod.py"
        assert os.readlink(copy / "abs_pkg") == str(copy / "pkg")  # not into the workspace
        assert (copy / "data.txt").read_text() == "shared\n"

        sandbox.write("pkg/alias.py", "X = 2\n")  # replaces the link, not its target
        assert (root / "pkg" / "mod.py").read_text() == "X = 1\n"
        with pytest.raises(ValueError, match="relative to the project root"):
            sandbox.write("../escape.py", "")
        with pytest.raises(ValueError, match="relative to the project root"):
            sandbox.write(str(root / "pkg" / "mod.py"), "")
    assert not copy.exists()


def test_workspace_venv_used_not_copied(tmp_path):
    """With interpreter=None the project's .venv runs the tests from the sandbox."""
    import stat
    import sys

    root = quixbugs_task("gcd", tmp_path / "gcd")
    seen = tmp_path / "seen-by-venv.txt"
    python = root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    # A stand-in environment: a script that logs its working folder, then runs the
    # test-suite interpreter.
    python.write_text(f'#!/bin/sh\npwd >> {seen}\nexec {sys.executable} "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    before = tree_hash(root)
    fixed = (QUIXBUGS / "gcd" / "fixed_min.py").read_text()

    result = validate_patch(str(root), {"gcd.py": fixed}, ["test_gcd.py::test_gcd[case2]"], [],
                            interpreter=None, timeout=60)

    assert result.verified, result.detail
    folders = seen.read_text().splitlines()
    assert any("sandbox-" in folder for folder in folders)
    assert tree_hash(root) == before
