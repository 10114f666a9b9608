"""Ochiai ranking on hand-computed spectra, test-file exclusion and provenance boosts."""

import math

import pytest

from tracefix.server.engine.localize import (PROVENANCE_BOOST, build_spectrum, is_test_file,
                                             localize, ochiai)
from tracefix.server.runner import TestOutcome

ROOT = "/p"
SRC = "/p/src.py"
TEST = "/p/test_src.py"


def _outcome(nodeid, outcome, lines):
    return TestOutcome(nodeid, outcome, lines=None if lines is None else [(SRC, n) for n in lines])


def _spectrum():
    # t1 and t4 fail; line 3 is run by both failing tests and no passing one.
    return build_spectrum({
        "t1": _outcome("t1", "failed", [1, 2, 3]),
        "t2": _outcome("t2", "passed", [1, 2]),
        "t3": _outcome("t3", "passed", [1]),
        "t4": _outcome("t4", "failed", [1, 3]),
        "t5": _outcome("t5", "skipped", [1, 2, 3]),
    })


def test_ochiai_formula():
    assert ochiai(2, 2, 2) == pytest.approx(2 / math.sqrt(2 * 4))
    assert ochiai(0, 5, 2) == 0.0
    assert ochiai(1, 0, 0) == 0.0


def test_spectrum_counts_only_passing_and_failing():
    spectrum = _spectrum()
    assert (spectrum.total_failed, spectrum.total_passed) == (2, 2)
    assert spectrum.failed[SRC, 1] == 2
    assert spectrum.passed[SRC, 1] == 2
    assert (SRC, 3) not in spectrum.passed


def test_ranking_by_hand_computed_scores():
    ranked = localize(_spectrum(), ROOT)
    assert [(s.line, round(s.score, 4)) for s in ranked] == [(3, 1.0), (1, 0.7071), (2, 0.5)]
    assert "2 of 2 failing" in ranked[0].reason


def test_provenance_boost_reorders():
    ranked = localize(_spectrum(), ROOT, provenance=[(SRC, 1)])
    assert ranked[0].line == 1
    assert ranked[0].score == pytest.approx(2 / math.sqrt(8) + PROVENANCE_BOOST, abs=1e-6)
    assert "passed through" in ranked[0].reason


def test_ties_broken_by_path_then_line():
    spectrum = build_spectrum({
        "t1": TestOutcome("t1", "failed", lines=[("/p/b.py", 2), ("/p/a.py", 9), ("/p/b.py", 1)]),
    })
    assert [(s.file, s.line) for s in localize(spectrum, ROOT)] == [
        ("/p/a.py", 9), ("/p/b.py", 1), ("/p/b.py", 2)]


def test_test_files_excluded_unless_alone():
    spectrum = build_spectrum({"t1": TestOutcome("t1", "failed", lines=[(TEST, 5), (SRC, 1)])})
    assert [s.file for s in localize(spectrum, ROOT)] == [SRC]
    assert {s.file for s in localize(spectrum, ROOT, allow_test_edits=True)} == {SRC, TEST}
    only_tests = build_spectrum({"t1": TestOutcome("t1", "failed", lines=[(TEST, 5)])})
    assert [s.file for s in localize(only_tests, ROOT)] == [TEST]


def test_failing_test_without_coverage_uses_trace_lines():
    spectrum = build_spectrum({"t1": _outcome("t1", "timeout", None)}, {"t1": [(SRC, 7)]})
    assert [s.line for s in localize(spectrum, ROOT)] == [7]


def test_reason_in_japanese():
    ranked = localize(_spectrum(), ROOT, locale="ja")
    assert "失敗テスト 2 件中 2 件" in ranked[0].reason


@pytest.mark.parametrize("path,expected", [
    ("/p/test_a.py", True), ("/p/a_test.py", True), ("/p/conftest.py", True),
    ("/p/tests/helpers.py", True), ("/p/src/a.py", False), ("/p/testing.py", False),
    ("/p/contest.py", False),
])
def test_test_file_conventions(path, expected):
    assert is_test_file(path, ROOT) is expected


def _candidate(line, verified):
    from tracefix.server.engine.results import Candidate

    return Candidate(source="builtin", file=SRC, new_text="", description="", line=line,
                     verified=verified)


def test_verified_fix_line_promoted_first():
    from tracefix.server.engine.localize import promote_repaired

    ranked = localize(_spectrum(), ROOT)
    assert [s.line for s in ranked] == [3, 1, 2]

    promoted = promote_repaired(ranked, [_candidate(2, True), _candidate(3, False),
                                         _candidate(2, True)])

    assert [s.line for s in promoted] == [2, 3, 1]
    assert promoted[0].score > promoted[1].score
    assert promoted[0].reason.startswith("a verified fix changes this line; Ochiai")


def test_no_verified_fix_keeps_ranking():
    from tracefix.server.engine.localize import promote_repaired

    ranked = localize(_spectrum(), ROOT)
    assert promote_repaired(ranked, [_candidate(1, False)]) == ranked
