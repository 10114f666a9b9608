"""A tiny benchmark in the QuixBugs layout and a scripted model backend for the eval tests."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from tracefix.server.model.backend import Completion, GenerationRequest, never

# Two tasks: NAME/buggy.py beside NAME/test_NAME.py, plus reference files that the
# harness must never copy (their marker must not reach any scratch project).
REFERENCE_MARKER = "REFERENCE-FIX-MUST-NOT-LEAK"
TINY_TASKS = {
    "clamp": {
        "buggy.py": (
            "def clamp(value, low, high):\n"
            "    if value < low:\n"
            "        return low\n"
            "    if value > high:\n"
            "        return low\n"
            "    return value\n"
        ),
        "test_clamp.py": (
            "import pytest\n"
            "\n"
            "from clamp import clamp\n"
            "\n"
            "\n"
            "@pytest.mark.parametrize('args,expected', [((5, 0, 10), 5), ((-1, 0, 10), 0),\n"
            "                                           ((11, 0, 10), 10), ((99, 0, 3), 3)])\n"
            "def test_clamp(args, expected):\n"
            "    assert clamp(*args) == expected\n"
        ),
    },
    "absolute": {
        "buggy.py": (
            "def absolute(x):\n"
            "    if x < 0:\n"
            "        return x\n"
            "    return x\n"
        ),
        "test_absolute.py": (
            "from absolute import absolute\n"
            "\n"
            "\n"
            "def test_positive():\n"
            "    assert absolute(3) == 3\n"
            "\n"
            "\n"
            "def test_negative():\n"
            "    assert absolute(-4) == 4\n"
        ),
    },
}


def write_tiny_benchmark(folder: Path) -> Path:
    """Write the tiny benchmark (with decoy reference fixes) under `folder` and return it."""
    for name, files in TINY_TASKS.items():
        task = folder / name
        task.mkdir(parents=True)
        for filename, text in files.items():
            (task / filename).write_text(text, encoding="utf-8")
        for reference in ("fixed.py", "fixed_min.py", "fix.diff"):
            (task / reference).write_text(f"# {REFERENCE_MARKER}\n", encoding="utf-8")
    return folder


def _answer(reasoning: str, code: str | None) -> str:
    if code is None:
        return reasoning + "\nI cannot tell what is wrong here.\n"
    return f"{reasoning}\n\nFixed code:\n\n```python\n{code}```\n"


CLAMP_RIGHT = ("def clamp(value, low, high):\n    if value < low:\n        return low\n"
               "    if value > high:\n        return high\n    return value\n")
CLAMP_WRONG = ("def clamp(value, low, high):\n    if value < low:\n        return low\n"
               "    if value > high:\n        return value\n    return value\n")
ABSOLUTE_RIGHT = "def absolute(x):\n    if x < 0:\n        return -x\n    return x\n"
ABSOLUTE_WRONG = "def absolute(x):\n    if x < 0:\n        return x + 1\n    return x\n"
ABSOLUTE_WRONG_2 = "def absolute(x):\n    if x <= 0:\n        return x\n    return x\n"

# (task, prompt has the trace) -> the 4 sampled answers. The expected verified samples:
# clamp with trace 0 and 1 (the same text, validated once), clamp without trace 0,
# absolute with trace 0, absolute without trace none.
SCRIPTS = {
    ("clamp", True): [_answer("The second branch returns low for a value above high.", CLAMP_RIGHT),
                      _answer("Same finding.", CLAMP_RIGHT),
                      _answer("Return the value itself.", CLAMP_WRONG),
                      _answer("Unsure.", None)],
    ("clamp", False): [_answer("Above high it must return high.", CLAMP_RIGHT),
                       _answer("Return the value.", CLAMP_WRONG),
                       _answer("Return the value.", CLAMP_WRONG),
                       _answer("Unsure.", None)],
    ("absolute", True): [_answer("Negate negative inputs.", ABSOLUTE_RIGHT),
                         _answer("Add one.", ABSOLUTE_WRONG),
                         _answer("Compare with <=.", ABSOLUTE_WRONG_2),
                         _answer("Unsure.", None)],
    ("absolute", False): [_answer("Add one.", ABSOLUTE_WRONG),
                          _answer("Compare with <=.", ABSOLUTE_WRONG_2),
                          _answer("Unsure.", None),
                          _answer("Add one.", ABSOLUTE_WRONG)],
}
# Verified samples per (task, with trace), so c = len(...).
EXPECTED_CORRECT = {("clamp", True): 2, ("clamp", False): 1,
                    ("absolute", True): 1, ("absolute", False): 0}


class ScriptedBackend:
    """Test double of a ModelBackend: returns the scripted answers above, runs no model.

    It picks the script by the function named in the prompt and by whether the prompt
    carries the inline trace (trace comments show `__return__=` values), and records
    each request so tests can check what the harness asked for.
    """

    name = "scripted-double"

    def __init__(self) -> None:
        self.requests: list[tuple[str, bool, GenerationRequest]] = []
        self._lock = threading.Lock()

    @property
    def context_window(self) -> int:
        return 32768

    def load(self, progress=None, cancel=never) -> None:
        pass

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return sum(len(m["content"]) // 4 + 4 for m in messages)

    def generate(self, request: GenerationRequest, *, on_delta=None, cancel=never) -> list[Completion]:
        prompt = "\n".join(m["content"] for m in request.messages)
        task = "clamp" if re.search(r"def clamp\(", prompt) else "absolute"
        with_trace = "__return__=" in prompt
        with self._lock:
            self.requests.append((task, with_trace, request))
        answers = SCRIPTS[(task, with_trace)][:request.n]
        for index, text in enumerate(answers):
            if on_delta:
                on_delta(index, text)
        return [Completion(text=text) for text in answers]
