"""Kind 15: numpy arrays and pandas frames whose values change between lines.

Their `==` returns an array and their truth value raises ("The truth value of an
array with more than one element is ambiguous"), so a tracer that compared or tested
them would raise inside the test or change what it computes. The traced run must end
like the untraced one, and an in-place change (`a[0] = 5`, `df.loc[0, "x"] = 10`, a
new column) must show on the line that made it, read from the arrays themselves.
"""

from __future__ import annotations

from hostile_helpers import line_of, run_traced, values_at, write_project

ARRAYS = {
    "data.py": '''
        import numpy as np
        import pandas as pd


        def arrays():
            a = np.zeros(4)
            a[0] = 5
            a += 1
            same = a == a
            big = a[a > 1]
            return a, same, big


        def frames():
            df = pd.DataFrame({"x": [1, 2, 3], "y": [4.0, 5.0, 6.0]})
            df.loc[0, "x"] = 10
            df["z"] = df["x"] * 2
            s = df["y"]
            s2 = s + 1
            mask = df["x"] > 2
            equal = df == df
            return df, s2, mask, equal
        ''',
    "test_data.py": '''
        from data import arrays, frames

        def test_arrays():
            a, same, big = arrays()
            assert (a.tolist(), bool(same.all()), big.tolist()) == ()

        def test_frames():
            df, s2, mask, equal = frames()
            assert (df.to_dict("list"), s2.tolist(), mask.tolist(),
                    bool(equal.all().all())) == ()
        ''',
}


def test_arrays_and_frames_outcome_unchanged(tmp_path, any_python):
    root = write_project(tmp_path / "p", ARRAYS)
    run = run_traced(root, any_python, timeout=180)
    for nodeid in ("test_data.py::test_arrays", "test_data.py::test_frames"):
        baseline = run.baseline.outcomes[nodeid]
        assert baseline.outcome == "failed", baseline.message
        assert "truth value" not in baseline.message
        traced = run.traced.outcomes[nodeid]
        assert traced.outcome == "failed", traced.message
        assert traced.message == baseline.message
        trace = run.traces[nodeid]
        assert trace.reliable, trace.notes
        assert trace.budget is None, trace.budget
        assert not [n for n in trace.notes if "truth value" in n or "Error" in n], trace.notes


def test_array_changes_shown_on_their_lines(tmp_path, any_python):
    root = write_project(tmp_path / "p", ARRAYS)
    run = run_traced(root, any_python, timeout=180)
    trace = run.traces["test_data.py::test_arrays"]

    def value(marker: str, name: str) -> str:
        found = values_at(trace, root, "data.py", line_of(root, "data.py", marker))
        assert len(found) == 1, (marker, found)
        return found[0][name]

    assert value("a = np.zeros(4)", "a") == "ndarray(shape=(4,), dtype=float64, [0.0, 0.0, 0.0, 0.0])"
    assert value("a[0] = 5", "a") == "ndarray(shape=(4,), dtype=float64, [5.0, 0.0, 0.0, 0.0])"
    assert value("a += 1", "a") == "ndarray(shape=(4,), dtype=float64, [6.0, 1.0, 1.0, 1.0])"
    assert value("same = a == a", "same") == "ndarray(shape=(4,), dtype=bool, [True, True, True, True])"
    assert value("big = a[a > 1]", "big") == "ndarray(shape=(1,), dtype=float64, [6.0])"


def test_frame_changes_shown_on_their_lines(tmp_path, any_python):
    root = write_project(tmp_path / "p", ARRAYS)
    run = run_traced(root, any_python, timeout=180)
    trace = run.traces["test_data.py::test_frames"]

    def value(marker: str, name: str) -> str:
        found = values_at(trace, root, "data.py", line_of(root, "data.py", marker))
        assert len(found) == 1, (marker, found)
        return found[0][name]

    assert value("df = pd.DataFrame(", "df") == \
        "DataFrame(shape=(3, 2), {'x': [1, 2, 3], 'y': [4.0, 5.0, 6.0]})"
    assert value('df.loc[0, "x"] = 10', "df") == \
        "DataFrame(shape=(3, 2), {'x': [10, 2, 3], 'y': [4.0, 5.0, 6.0]})"
    assert value('df["z"] = df["x"] * 2', "df") == \
        "DataFrame(shape=(3, 3), {'x': [10, 2, 3], 'y': [4.0, 5.0, 6.0], 'z': [20, 4, 6]})"
    assert value('s = df["y"]', "s") == "Series(name='y', dtype=float64, [4.0, 5.0, 6.0])"
    assert value("s2 = s + 1", "s2") == "Series(name='y', dtype=float64, [5.0, 6.0, 7.0])"
    assert value('mask = df["x"] > 2', "mask") == "Series(name='x', dtype=bool, [True, False, True])"
    assert value("equal = df == df", "equal").startswith("DataFrame(shape=(3, 3), {'x': [True, True")
