"""LineMap keeps traced lines on their text through edits, and drops them when edited."""

from tracefix.server.lsp.line_map import LineMap

TRACED = "def f(a):\n    x = a + 1\n    y = x * 2\n    return y\n"


def lines_of(line_map: LineMap) -> dict[int, int | None]:
    return {traced: line_map.current_line(traced) for traced in range(4)}


def test_identity_when_unchanged():
    line_map = LineMap(TRACED, TRACED)
    assert lines_of(line_map) == {0: 0, 1: 1, 2: 2, 3: 3}


def test_lines_inserted_above_shift_down():
    line_map = LineMap(TRACED, TRACED)
    line_map.apply_change((0, 0), (0, 0), "import os\n\n")
    assert lines_of(line_map) == {0: 2, 1: 3, 2: 4, 3: 5}
    assert line_map.traced_line(3) == 1
    assert line_map.traced_line(0) is None


def test_deleted_line_is_dropped_and_below_shifts_up():
    line_map = LineMap(TRACED, TRACED)
    line_map.apply_change((1, 0), (2, 0), "")
    assert lines_of(line_map) == {0: 0, 1: None, 2: 1, 3: 2}


def test_typing_into_line_hides_it_until_undone():
    line_map = LineMap(TRACED, TRACED)
    line_map.apply_change((2, 13), (2, 13), " + 1")
    assert line_map.current_line(2) is None
    line_map.apply_change((2, 13), (2, 17), "")
    assert line_map.current_line(2) == 2


def test_enter_at_end_of_line_keeps_it():
    line_map = LineMap(TRACED, TRACED)
    line_map.apply_change((1, 13), (1, 13), "\n    ")
    assert lines_of(line_map) == {0: 0, 1: 1, 2: 3, 3: 4}


def test_enter_at_start_of_line_moves_it():
    line_map = LineMap(TRACED, TRACED)
    line_map.apply_change((1, 0), (1, 0), "\n")
    assert lines_of(line_map) == {0: 0, 1: 2, 2: 3, 3: 4}


def test_splitting_a_line_drops_it():
    line_map = LineMap(TRACED, TRACED)
    line_map.apply_change((1, 9), (1, 9), "\n    ")
    assert line_map.current_line(1) is None
    assert line_map.current_line(2) == 3


def test_whole_document_change_matches_by_diff():
    line_map = LineMap(TRACED, TRACED)
    line_map.replace_all("# header\n" + TRACED.replace("    y = x * 2\n", "    y = x * 3\n"))
    assert lines_of(line_map) == {0: 1, 1: 2, 2: None, 3: 4}


def test_document_edited_before_trace_arrived():
    current = "# new comment\n" + TRACED
    line_map = LineMap(TRACED, current)
    assert lines_of(line_map) == {0: 1, 1: 2, 2: 3, 3: 4}


def test_multiple_changes_in_one_notification_apply_in_order():
    line_map = LineMap(TRACED, TRACED)
    line_map.apply_change((0, 0), (0, 0), "a\n")
    line_map.apply_change((0, 0), (1, 0), "")
    line_map.apply_change((4, 0), (4, 0), "b\n")
    assert lines_of(line_map) == {0: 0, 1: 1, 2: 2, 3: 3}
    assert line_map.current_lines[4] == "b"
