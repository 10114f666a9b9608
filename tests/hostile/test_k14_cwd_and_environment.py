"""Kind 14: tests that change the working directory (even delete it) or the environment.
Traces and reports are written to absolute paths, later tests run from the original
state, and the leak is reported."""

from __future__ import annotations

from hostile_helpers import run_traced, write_project
from tracefix.server.i18n import note_text

PROJECT = {
    "paths.py": '''
        import os

        def data_dir():
            return os.path.join(os.getcwd(), "data")

        def mode():
            return os.environ.get("APP_MODE", "dev")
        ''',
    "test_paths.py": '''
        import os
        import shutil
        import tempfile
        from paths import data_dir, mode

        START = os.getcwd()

        def test_moves_into_a_deleted_folder():
            scratch = tempfile.mkdtemp()
            os.chdir(scratch)
            shutil.rmtree(scratch)
            os.environ["APP_MODE"] = "prod"
            os.environ.pop("HOME_FOR_TEST", None)
            assert mode() == "dev"

        def test_later_runs_from_the_start():
            assert os.getcwd() == START
            assert data_dir() == os.path.join(START, "data")
            assert mode() == "dev"
            assert os.environ["HOME_FOR_TEST"] == "kept"
        ''',
}


def test_leaked_cwd_and_environment_are_restored_and_reported(tmp_path, python, monkeypatch):
    monkeypatch.setenv("HOME_FOR_TEST", "kept")
    monkeypatch.setenv("SECRET_TOKEN", "do-not-log-me")
    root = write_project(tmp_path / "p", PROJECT)
    run = run_traced(root, python)
    expected = {"test_paths.py::test_moves_into_a_deleted_folder": "failed",
                "test_paths.py::test_later_runs_from_the_start": "passed"}
    for result in (run.baseline, run.traced):
        assert {n: o.outcome for n, o in result.outcomes.items()} == expected, result.output
        leak = result.outcomes["test_paths.py::test_moves_into_a_deleted_folder"].leak
        # "cwd": None means the test left the process in a folder that no longer exists.
        assert leak == {"cwd": None, "env_added": ["APP_MODE"], "env_removed": ["HOME_FOR_TEST"]}
        assert result.outcomes["test_paths.py::test_later_runs_from_the_start"].leak is None

    # Both traces were written although the first test left a deleted working directory.
    first = run.traces["test_paths.py::test_moves_into_a_deleted_folder"]
    assert first.reliable and first.outcome == "failed"
    leaks = [n for n in first.notes if n.startswith("the test left")]
    assert [n.key for n in leaks] == ["trace.note.leak.cwd_deleted", "trace.note.leak.env"]
    assert "the working directory in a deleted folder" in leaks[0]
    assert "added: APP_MODE; removed: HOME_FOR_TEST; changed: -" in leaks[1]
    assert all("restored before the next test" in n for n in leaks)
    # Names only: values, which may be secrets, are never reported.
    assert not any("prod" in n or "kept" in n for n in leaks)
    # The Japanese rendering names the same variables.
    assert "APP_MODE" in note_text(leaks[1], "ja")
    assert "環境変数" in note_text(leaks[1], "ja")
    assert run.traces["test_paths.py::test_later_runs_from_the_start"].outcome == "passed"
