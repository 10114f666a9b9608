"""The snapshot as hover markdown and as prompt lines."""

from tracefix.server.debug import FailureSnapshot, SnapshotFrame, SnapshotValue
from tracefix.server.debug.render import snapshot_markdown, snapshot_prompt_text


def snapshot() -> FailureSnapshot:
    point = SnapshotValue("p", "<geo.Point object at 0x7f>", "Point",
                          [SnapshotValue("x", "1", "int"), SnapshotValue("y", "2", "int")])
    small = SnapshotValue("items", "[1, 2]", "list", [SnapshotValue("0", "1"), SnapshotValue("1", "2")])
    big = SnapshotValue("big", "[0, 1, 2, …", "list", [SnapshotValue("000000", "0")], more=True)
    stuck = SnapshotValue("obj", "<calc.Blocking object at 0x7f>", note="not evaluated: timed out")
    frame = SnapshotFrame("f", "/p/geo.py", 3, [point, small, big, stuck])
    return FailureSnapshot("t.py::test", True, "ValueError", "bad\nvalue", [frame])


def test_prompt_members_of_hidden_values():
    text = snapshot_prompt_text(snapshot())

    assert text.splitlines() == [
        "# State at the failure (read with a debugger): ValueError: bad value",
        "# f (geo.py:3): p=<geo.Point object at 0x7f>; p.x=1; p.y=2; items=[1, 2]; "
        "big=[0, 1, 2, …; big[000000]=0; big[…]; obj=<not evaluated: timed out>",
    ]


def test_prompt_text_is_cut_to_its_limit():
    text = snapshot_prompt_text(snapshot(), limit=80)

    assert len(text) <= 80
    assert text.endswith("# ... (cut)")


def test_prompt_lines_in_japanese():
    text = snapshot_prompt_text(snapshot(), locale="ja")

    assert text.splitlines()[0] == "# 失敗時の状態（デバッガーで読み取り）: ValueError: bad value"
    empty = FailureSnapshot("t.py::test", True, "ValueError", "bad", [SnapshotFrame("g", "/p/geo.py", 9)])
    assert snapshot_prompt_text(empty, locale="ja").splitlines()[1] == "# g (geo.py:9): （ローカル変数なし）"


def test_hover_table_in_japanese():
    text = snapshot_markdown(snapshot(), "ja")

    assert text.startswith("**失敗時の状態 (debugpy):** `ValueError: bad value`")
    assert "geo.py:3 の `f`" in text
    assert "| `p.x` | `1` |" in text
    assert "| `obj` | *not evaluated: timed out* |" in text
    assert "items[0]" not in text


def test_not_stopped_snapshot_says_so():
    text = snapshot_markdown(FailureSnapshot("t.py::test", False), "en")

    assert "ended without stopping at a failure" in text
    assert snapshot_prompt_text(FailureSnapshot("t.py::test", False)) == ""
