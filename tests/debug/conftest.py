"""A small project whose tests fail in the ways the snapshot must handle, and a leak check."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

CALC = '''\
import threading


class Blocking:
    def __init__(self):
        self.ok = 1

    @property
    def stuck(self):
        threading.Event().wait()  # never returns


def total(items):
    acc = 0
    for x in items:
        acc += x
    return acc - 1


def parse(text):
    parts = text.split(",")
    return [int(p) for p in parts]


def deep(text):
    values = parse(text)
    return total(values)


def forever(n):
    return forever(n + 1)
'''

TESTS = '''\
from calc import Blocking, deep, forever, total


def test_total():
    items = [1, 2, 3]
    result = total(items)
    assert result == 6


def test_deep():
    assert deep("1,x") == 1


def test_blocking():
    obj = Blocking()
    big = list(range(1_000_000))
    assert total([1]) == 1


def test_passes():
    assert total([1, 1]) == 1


def test_recursion():
    forever(0)
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "calc_project"
    root.mkdir()
    (root / "calc.py").write_text(CALC, encoding="utf-8")
    (root / "test_calc.py").write_text(TESTS, encoding="utf-8")
    return root


def debugpy_processes(folder: Path) -> dict[int, str]:
    """Return {pid: command line} of the debugpy processes that belong to `folder`.

    A debuggee runs with its project (under `folder`) as working directory. Its adapter
    runs from the debugpy link in the cache, which the fixture below puts under `folder`
    too. Other debugpy processes on the machine belong to other tests.
    """
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode("utf-8", errors="replace")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if "debugpy" not in command and "tracefix.tracer.debuggee" not in command:
            continue
        if str(folder) in command or cwd.startswith(str(folder)):
            found[int(pid)] = command
    return found


@pytest.fixture(autouse=True)
def no_debugpy_left(tmp_path: Path, monkeypatch):
    """Fail a test that leaves a debugpy process (the debuggee or its adapter) behind."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    yield
    deadline = time.monotonic() + 5  # a killed group may take a moment to be reaped
    while True:
        left = debugpy_processes(tmp_path)
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert left == {}, left
