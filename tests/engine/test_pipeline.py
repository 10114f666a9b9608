"""The explain pipeline on QuixBugs tasks: real pytest runs, traces and sandboxes."""

import os
import subprocess
import sys
import threading

import pytest

from tracefix.server.engine import (Candidate, ExplainError, ExplainSettings, ValidationSettings,
                                    explain_failure)

from engine_helpers import available, make_task, reference

pytestmark = pytest.mark.skipif(not available(), reason="QuixBugs tasks are not staged here")

FAST = ExplainSettings(validation=ValidationSettings(budget_seconds=90, stop_after_verified=1))


def _passes_with(root: str, name: str, text: str) -> bool:
    """Run the task's whole test file on a copy of the task folder `root` patched with `text`."""
    patched = root + "-patched"
    os.makedirs(patched, exist_ok=True)
    with open(os.path.join(patched, f"{name}.py"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(root, f"test_{name}.py"), encoding="utf-8") as f:
        test_text = f.read()
    with open(os.path.join(patched, f"test_{name}.py"), "w", encoding="utf-8") as f:
        f.write(test_text)
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", patched],
                            capture_output=True, text=True, timeout=120)
    return result.returncode == 0


@pytest.mark.parametrize("task,faulty_line", [("gcd", 5), ("get_factors", 10)])
def test_explain_finds_verified_fix(tmp_path, task, faulty_line):
    root = make_task(tmp_path, task)
    steps = []
    explanation = explain_failure(root, f"test_{task}.py", settings=FAST,
                                  progress=lambda message, percent: steps.append(percent))

    program = os.path.join(root, f"{task}.py")
    assert (program, faulty_line) in [(s.file, s.line) for s in explanation.suspicious[:3]]
    best = explanation.candidates[0]
    assert best.verified, [c.detail for c in explanation.candidates[:5]]
    assert best.source == "builtin"
    assert best.line == faulty_line
    assert best.diff.startswith(f"--- a/{task}.py\n+++ b/{task}.py\n")
    assert _passes_with(root, task, best.new_text)
    assert steps[0] == 0
    assert steps[-1] == 100
    with open(program, encoding="utf-8") as f:
        assert f.read() == reference(task, "buggy.py")


@pytest.mark.slow
@pytest.mark.parametrize("task", ["hanoi", "bucketsort", "pascal", "quicksort", "flatten",
                                  "topological_ordering", "is_valid_parenthesization"])
def test_explain_more_tasks(tmp_path, task):
    root = make_task(tmp_path, task)
    explanation = explain_failure(root, f"test_{task}.py", settings=FAST)
    assert explanation.candidates[0].verified
    assert _passes_with(root, task, explanation.candidates[0].new_text)


class _FixedSource:
    """A candidate source standing in for a model: proposes one given text."""

    name = "fixed"

    def __init__(self, text):
        self.text = text
        self.contexts = []

    def propose(self, context):
        self.contexts.append(context)
        path = os.path.join(context.root, "hanoi.py")
        yield Candidate(source=self.name, file=path, new_text=self.text,
                        description="reference", line=6)


def test_other_candidate_sources_plug_in(tmp_path):
    root = make_task(tmp_path, "hanoi")
    fixed = reference("hanoi", "fixed_min.py")
    source = _FixedSource(fixed)
    explanation = explain_failure(root, "test_hanoi.py", settings=FAST, sources=[source])
    assert [c.source for c in explanation.candidates] == ["fixed"]
    assert explanation.candidates[0].verified
    context = source.contexts[0]
    assert context.test_id.startswith("test_hanoi.py::test_hanoi[")
    assert "hanoi" in context.inline
    assert context.suspicious and context.diagnosis.summary


def test_cancel_stops_before_validation(tmp_path):
    root = make_task(tmp_path, "hanoi")
    cancel = threading.Event()

    def progress(message, percent):
        if percent is not None and percent >= 35:
            cancel.set()

    with pytest.raises(ExplainError) as raised:
        explain_failure(root, "test_hanoi.py", settings=FAST, progress=progress, cancel=cancel)
    assert raised.value.kind == "cancelled"


def test_passing_test_is_rejected(tmp_path):
    root = make_task(tmp_path, "hanoi")
    with pytest.raises(ExplainError) as raised:
        explain_failure(root, "test_hanoi.py::test_hanoi[case1]", settings=FAST)
    assert raised.value.kind == "passed"
    assert "test_hanoi.py::test_hanoi[case1]" in str(raised.value)
