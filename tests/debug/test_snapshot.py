"""The failure snapshot through real debugpy, read by tracefix's own DAP client."""

from __future__ import annotations

import json

import pytest

from tracefix.server.debug import snapshot_from_json, take_snapshot
from tracefix.server.debug.render import snapshot_markdown
from tracefix.server.i18n import note_text

pytestmark = pytest.mark.timeout(120)


def local(frame, name):
    return next(value for value in frame.locals if value.name == name)


def test_assertion_failure_state(project):
    snapshot = take_snapshot(str(project), "test_calc.py::test_total")

    assert snapshot.stopped
    assert snapshot.exception_type == "AssertionError"
    assert snapshot.message == "assert 5 == 6"
    (frame,) = snapshot.frames  # total() had returned, so only the test frame is left
    assert (frame.name, frame.file, frame.line) == ("test_total", str(project / "test_calc.py"), 7)
    assert [value.name for value in frame.locals] == ["items", "result"]  # no @py_assert locals
    assert local(frame, "result").value == "5"
    items = local(frame, "items")
    assert items.value == "[1, 2, 3]"
    assert [(child.name, child.value) for child in items.children] == [("0", "1"), ("1", "2"), ("2", "3")]
    assert snapshot.notes == []


def test_deep_exception_state(project):
    snapshot = take_snapshot(str(project), "test_calc.py::test_deep")

    assert snapshot.exception_type == "ValueError"
    assert snapshot.message == "invalid literal for int() with base 10: 'x'"
    assert [(f.name, f.line) for f in snapshot.frames] == [
        ("<listcomp>", 22), ("parse", 22), ("deep", 26), ("test_deep", 11)]
    assert local(snapshot.frames[0], "p").value == "'x'"
    parse = snapshot.frames[1]
    assert local(parse, "parts").value == "['1', 'x']"
    assert local(parse, "text").value == "'1,x'"


def test_blocking_property_and_huge_list(project):
    snapshot = take_snapshot(str(project), "test_calc.py::test_blocking")

    frame = snapshot.frames[0]
    big = local(frame, "big")
    assert big.more  # a million items, cut to the count limit
    assert len(big.children) == 12
    assert big.children[0].value == "0"
    obj = local(frame, "obj")
    # Expanding obj reads its property, which never returns: the request times out,
    # the value is marked, and nothing more is asked of the stuck thread.
    assert obj.note.startswith("not evaluated")
    assert obj.children == []
    assert any("reading stopped early" in note for note in snapshot.notes)
    assert snapshot.seconds < 60
    # The notes survive the trace's JSON and are shown in the reader's language.
    again = snapshot_from_json(json.loads(json.dumps(snapshot.to_json())))
    assert note_text(local(again.frames[0], "obj").note, "ja").startswith("評価していません: ")
    hover_ja = snapshot_markdown(again, "ja")
    assert "> 読み取りを途中で止めました: " in hover_ja, hover_ja
    assert "reading stopped early" not in hover_ja
    assert "> reading stopped early: " in snapshot_markdown(again, "en")


def test_passing_test_does_not_stop(project):
    snapshot = take_snapshot(str(project), "test_calc.py::test_passes")

    assert not snapshot.stopped
    assert snapshot.frames == []


def test_recursion_error_does_not_hang(project):
    # debugpy 1.8 does not stop on this RecursionError; the snapshot must then end when
    # the test ends, not after its start budget (60 s).
    snapshot = take_snapshot(str(project), "test_calc.py::test_recursion")

    assert snapshot.seconds < 30
    if not snapshot.stopped:
        assert "RecursionError" in snapshot.notes[0]
    else:
        assert snapshot.exception_type == "RecursionError"


def test_snapshot_json_round_trip(project):
    snapshot = take_snapshot(str(project), "test_calc.py::test_total")

    assert snapshot_from_json(snapshot.to_json()) == snapshot
