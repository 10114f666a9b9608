"""Across all kinds: validating fixes never writes into the workspace. For every
QuixBugs task, a candidate made by the repair operators (from buggy.py only) and one
hostile candidate that writes files wherever it can reach are validated in the sandbox,
and the workspace tree hashes the same before and after."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from benchdata import QUIXBUGS
from tree_hash import tree_hash
from tracefix.server.engine.repair import line_edits
from tracefix.server.engine.results import Candidate
from tracefix.server.engine.validation import ValidationSettings, validate_candidates

TASKS = sorted(p.name for p in QUIXBUGS.glob("*") if (p / "buggy.py").is_file()) \
    if QUIXBUGS.is_dir() else []

# Appended to a module: on import it writes next to itself, into the working directory
# and one folder up, as a careless or hostile patch could.
HOSTILE = '''

import os as _os
for _where in (_os.path.dirname(_os.path.abspath(__file__)), _os.getcwd(),
               _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))):
    try:
        with open(_os.path.join(_where, "written-by-candidate.txt"), "w") as _out:
            _out.write("x")
    except OSError:
        pass
'''


def operator_candidates(path: Path, count: int) -> list[Candidate]:
    """The first repair of each line, for the first `count` lines that have one."""
    text = path.read_text()
    found = []
    for line in range(1, text.count("\n") + 2):
        edits = line_edits(text, str(path), line)
        if edits:
            found.append(Candidate(source="builtin", file=str(path),
                                   new_text=edits[0].apply(text),
                                   description=f"line {line}: {edits[0].kind}", line=line,
                                   kind=edits[0].kind))
        if len(found) == count:
            break
    return found


@pytest.mark.skipif(not TASKS, reason=f"no QuixBugs tasks at {QUIXBUGS}")
@pytest.mark.parametrize("name", TASKS)
def test_validation_leaves_the_workspace_unchanged(tmp_path, python, name):
    root = tmp_path / "workspace"
    root.mkdir()
    shutil.copy(QUIXBUGS / name / "buggy.py", root / f"{name}.py")
    shutil.copy(QUIXBUGS / name / f"test_{name}.py", root / f"test_{name}.py")
    module = root / f"{name}.py"
    before = tree_hash(root)
    listing = sorted(os.listdir(root))

    # The test file stands for the failing tests: validation runs all of them.
    failing = [f"test_{name}.py"]
    candidates = operator_candidates(module, 1)
    assert candidates, f"the repair operators found nothing to change in {name}"
    candidates.append(Candidate(source="hostile", file=str(module),
                                new_text=module.read_text() + HOSTILE,
                                description="writes files", line=1))
    validate_candidates(str(root), candidates, failing, [], interpreter=python,
                        settings=ValidationSettings(workers=2, stop_after_verified=99))

    assert all(c.total for c in candidates), [(c.description, c.detail) for c in candidates]
    assert sorted(os.listdir(root)) == listing
    assert not (tmp_path / "written-by-candidate.txt").exists()
    assert tree_hash(root) == before
