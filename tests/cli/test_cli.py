"""The tracefix command in a subprocess: exit statuses and what it prints."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

PASSING_PROJECT = {
    "calc.py": "def add(a, b):\n    return a + b\n",
    "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
}
FAILING_PROJECT = {
    "calc.py": "def add(a, b):\n    return a - b\n",
    "test_calc.py": textwrap.dedent("""
        from calc import add


        def test_add():
            result = add(2, 3)
            assert result == 5


        def test_add_zero():
            assert add(4, 0) == 4
    """).lstrip(),
}


def _project(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _tracefix(root, *args, locale="C.UTF-8"):
    env = {**os.environ, "LANG": locale, "LC_ALL": "", "LC_MESSAGES": "", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "tracefix.server.cli", *args], cwd=root,
                          env=env, capture_output=True, text=True, timeout=240)


def test_missing_test_file_exits_2(tmp_path):
    _project(tmp_path, PASSING_PROJECT)
    result = _tracefix(tmp_path, "explain", "test_nope.py::test_x")
    assert result.returncode == 2
    assert "test_nope.py::test_x" in result.stderr
    assert "node id" in result.stderr
    assert result.stdout == ""


def test_uncollected_node_id_exits_2(tmp_path):
    _project(tmp_path, PASSING_PROJECT)
    result = _tracefix(tmp_path, "trace", "test_calc.py::test_missing")
    assert result.returncode == 2
    assert "test_calc.py::test_missing" in result.stderr
    assert "test_calc.py::test_add" in result.stderr  # lists what was collected


def test_file_without_failures_exits_2(tmp_path):
    _project(tmp_path, PASSING_PROJECT)
    result = _tracefix(tmp_path, "explain", "test_calc.py")
    assert result.returncode == 2
    assert "No failing test in test_calc.py (1 tests ran)" in result.stderr


def test_error_message_in_japanese(tmp_path):
    _project(tmp_path, PASSING_PROJECT)
    result = _tracefix(tmp_path, "explain", "test_nope.py", locale="ja_JP.UTF-8")
    assert result.returncode == 2
    assert "見つかりません" in result.stderr
    assert "test_nope.py" in result.stderr


def test_invalid_option_value_exits_2(tmp_path):
    result = _tracefix(tmp_path, "explain", "--workers", "0", "test_x.py")
    assert result.returncode == 2
    assert "--workers=0" in result.stderr


def test_missing_root_exits_2(tmp_path):
    result = _tracefix(tmp_path, "--root", str(tmp_path / "absent"), "trace", "test_x.py")
    assert result.returncode == 2
    assert str(tmp_path / "absent") in result.stderr


def test_trace_prints_inline_trace(tmp_path):
    _project(tmp_path, FAILING_PROJECT)
    result = _tracefix(tmp_path, "trace", "test_calc.py")
    assert result.returncode == 0, result.stderr
    assert "test_calc.py::test_add" in result.stdout
    assert "return a - b" in result.stdout


def test_explain_prints_verified_fix(tmp_path):
    _project(tmp_path, FAILING_PROJECT)
    result = _tracefix(tmp_path, "explain", "test_calc.py::test_add", "--max-fixes", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "## Diagnosis" in result.stdout
    assert "Expected `5`, but got `result` = `-1`." in result.stdout
    assert "-    return a - b\n+    return a + b\n" in result.stdout
    assert (tmp_path / "calc.py").read_text() == FAILING_PROJECT["calc.py"]  # workspace untouched


def test_explain_json_in_japanese(tmp_path):
    _project(tmp_path, FAILING_PROJECT)
    result = _tracefix(tmp_path, "--locale", "ja", "explain", "--json", "--max-fixes", "1",
                       "test_calc.py")
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["test_id"] == "test_calc.py::test_add"
    assert "期待値" in data["diagnosis"]["markdown"]
    fixes = [c for c in data["candidates"] if c["verified"]]
    assert fixes and fixes[0]["description"].startswith("2 行目")


def test_explain_without_fix_exits_1(tmp_path):
    _project(tmp_path, {
        "calc.py": "def add(a, b):\n    return 0\n",
        "test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    })
    result = _tracefix(tmp_path, "explain", "test_calc.py", "--budget", "30")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "No verified fix found" in result.stdout


def test_unsupported_locale_warns_and_uses_english(tmp_path):
    _project(tmp_path, FAILING_PROJECT)
    result = _tracefix(tmp_path, "--locale", "fr", "trace", "test_calc.py::test_add")
    assert result.returncode == 0
    assert "locale 'fr' has no translation" in result.stderr
    assert result.stdout.startswith("## Trace of test_calc.py::test_add")


def test_japanese_locale_tag_does_not_warn(tmp_path):
    _project(tmp_path, FAILING_PROJECT)
    result = _tracefix(tmp_path, "--locale", "ja-JP", "trace", "test_calc.py::test_add")
    assert result.returncode == 0
    assert "no translation" not in result.stderr
    assert "のトレース" in result.stdout


def test_serve_accepts_stdio_flag(tmp_path):
    # vscode-languageclient starts the server with `--stdio` appended.
    result = subprocess.run([sys.executable, "-m", "tracefix.server.cli", "serve", "--stdio"],
                            cwd=tmp_path, input="", capture_output=True, text=True, timeout=60)
    assert "unrecognized arguments" not in result.stderr
    assert result.returncode == 0, result.stderr[-2000:]


EXITING_PROJECT = {
    "calc.py": "import os\nimport sys\n\n\ndef half(n):\n    if n % 2:\n        sys.exit(3)\n"
               "    return n // 2\n\n\ndef leave():\n    os._exit(0)\n",
    "test_calc.py": textwrap.dedent("""
        from calc import half, leave


        def test_leave():
            leave()


        def test_exits():
            assert half(5) == 2


        def test_half():
            assert half(8) == 5
    """).lstrip(),
}


def test_tests_that_end_their_process(tmp_path):
    """A test that leaves with os._exit has no trace, and the command prints why; given the
    file, the command explains a test it can trace; sys.exit is shown as a crash."""
    _project(tmp_path, EXITING_PROJECT)
    left = _tracefix(tmp_path, "trace", "test_calc.py::test_leave")
    assert left.returncode == 2
    assert "No trace was recorded for test_calc.py::test_leave: the test process exited with " \
        "code 0 while this test was running. A test that ends its own process" in left.stderr, left.stderr

    whole_file = _tracefix(tmp_path, "trace", "test_calc.py")
    assert whole_file.returncode == 0, whole_file.stderr
    assert "test_calc.py::test_half" in whole_file.stdout  # a failed test before crashed ones

    exited = _tracefix(tmp_path, "trace", "test_calc.py::test_exits")
    assert exited.returncode == 0, exited.stderr
    assert "# CRASHED at calc.py:7: SystemExit" in exited.stdout
    assert "__exception__=SystemExit: 3" in exited.stdout
    assert "(outcome: crashed)" in exited.stdout

    # In Japanese, the runner's reason and the outcome are Japanese too.
    left_ja = _tracefix(tmp_path, "trace", "test_calc.py::test_leave", locale="ja_JP.UTF-8")
    assert left_ja.returncode == 2
    assert "のトレースは記録されませんでした: このテストの実行中に、テストプロセスが終了コード 0 で終了しました。" \
        in left_ja.stderr, left_ja.stderr
    assert "exited with code" not in left_ja.stderr
    exited_ja = _tracefix(tmp_path, "trace", "test_calc.py::test_exits", locale="ja_JP.UTF-8")
    assert exited_ja.returncode == 0, exited_ja.stderr
    assert "（結果: クラッシュ）" in exited_ja.stdout


DEEP_PROJECT = {
    "deep.py": "def depth(n):\n    if n == 0:\n        return 0\n    return 1 + depth(n - 1)\n",
    "test_deep.py": "from deep import depth\n\n\ndef test_depth():\n    assert depth(5000) == 5000\n",
}


def test_trace_japanese_recording_limits(tmp_path):
    """The inline trace stays English (a model reads it); under --locale ja the reason
    recording stopped and the trace's notes follow it in Japanese."""
    _project(tmp_path, DEEP_PROJECT)
    english = _tracefix(tmp_path, "trace", "test_deep.py")
    assert english.returncode == 0, english.stderr
    assert "# Recording stopped early (recursion limit" in english.stdout
    assert "モデル" not in english.stdout

    japanese = _tracefix(tmp_path, "--locale", "ja", "trace", "test_deep.py")
    assert japanese.returncode == 0, japanese.stderr
    assert "（結果: 失敗）" in japanese.stdout
    tail = japanese.stdout.split("# 上のインライントレースはモデルが読むテキストなので英語のままです。", 1)
    assert len(tail) == 2, japanese.stdout
    assert "# ステップ " in tail[1]
    assert "記録したフレームが " in tail[1]
    assert "再帰の上限に近づきました" in tail[1]
    assert "トレースバック: 全 " in tail[1]  # the traceback was cut: a note, in Japanese
