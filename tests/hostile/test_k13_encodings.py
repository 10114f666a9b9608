"""Kind 13: source files in latin-1, cp1252 and Shift JIS declared by a coding cookie.

Values and the inline rendering are right, and the server reads the files as Python
decodes them. A patch keeps the file's encoding. The report and trace files are UTF-8
even when the test process runs under the C locale."""

from __future__ import annotations

import glob
import os

from hostile_helpers import line_of, run_traced, values_at, write_project

from tracefix.server.engine.pipeline import load_sources
from tracefix.server.runner import Sandbox
from tracefix.server.runner.validate import validate_patch
from tracefix.tracer.inline import render_inline
from tracefix.tracer.source_text import read_source

LATIN1 = (
    "# -*- coding: latin-1 -*-\n"
    "def greet(name):\n"
    '    word = "café"\n'
    '    both = word + " " + name\n'
    "    return both\n"
)
CP1252 = (
    "# coding: cp1252\n"
    "def price():\n"
    '    label = "€uro ‰"\n'
    "    return label\n"
)
SHIFT_JIS = (
    "# coding: shift_jis\n"
    "def title():\n"
    '    text = "日本語"\n'
    "    return text\n"
)
TEST = (
    "# -*- coding: latin-1 -*-\n"
    "from japanese import title\n"
    "from latin import greet\n"
    "from windows import price\n"
    "\n"
    "def test_greet():\n"
    '    got = greet("José")\n'
    '    assert got == "café, José"\n'
    "\n"
    "def test_others():\n"
    '    assert (price(), title()) == ("", "")\n'
)
FILES = {
    "latin.py": LATIN1.encode("latin-1"),
    "windows.py": CP1252.encode("cp1252"),
    "japanese.py": SHIFT_JIS.encode("shift_jis"),
    # The test file is latin-1 too: the tracer reads it for the assertion's operands.
    "test_enc.py": TEST.encode("latin-1"),
}
# The C locale with UTF-8 mode off: Python's own default encodings are then ASCII.
C_LOCALE = {"LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}


def test_cookie_files_traced_under_c_locale(tmp_path, any_python):
    root = write_project(tmp_path / "p", FILES)
    run = run_traced(root, any_python, env=C_LOCALE)
    for nodeid in ("test_enc.py::test_greet", "test_enc.py::test_others"):
        assert run.baseline.outcomes[nodeid].outcome == "failed"
        assert run.traces[nodeid].outcome == "failed"
        assert run.traces[nodeid].reliable, run.traces[nodeid].notes

    greet = run.traces["test_enc.py::test_greet"]
    word = line_of(root, "latin.py", "word = ")
    assert values_at(greet, root, "latin.py", word) == [{"word": "'café'"}]
    both = line_of(root, "latin.py", "both = ")
    assert values_at(greet, root, "latin.py", both) == [{"both": "'café José'"}]
    assert "'café José' == 'café, José'" in greet.failure.message
    assert greet.failure.assertion is not None
    assert greet.failure.assertion["left"] == "'café José'"
    assert greet.failure.assertion["right"] == "'café, José'"

    others = run.traces["test_enc.py::test_others"]
    label = line_of(root, "windows.py", "label = ")
    assert values_at(others, root, "windows.py", label) == [{"label": "'€uro ‰'"}]
    text = line_of(root, "japanese.py", "text = ")
    assert values_at(others, root, "japanese.py", text) == [{"text": "'日本語'"}]

    # The files the child wrote are UTF-8 with the characters themselves.
    written = list(run.traced.traces.values())
    written += glob.glob(os.path.join(run.traced.run_dir, "*.jsonl"))
    assert len(written) == 3, written  # two traces and the report
    contents = [open(path, "rb").read() for path in written]
    for path, data in zip(written, contents):
        data.decode("utf-8")  # raises for a file written in another encoding
    assert any("café José".encode("utf-8") in data for data in contents)
    assert any("日本語".encode("utf-8") in data for data in contents)

    # The inline rendering shows the decoded source with each value on its line.
    sources = {f.path: read_source(f.path) for f in greet.files}
    rendering = render_inline(greet, sources)
    assert "    word = \"café\"  # (" in rendering
    assert "word='café'" in rendering
    rendering = render_inline(others, {f.path: read_source(f.path) for f in others.files})
    assert "    text = \"日本語\"  # (" in rendering


def test_server_reads_and_patches_by_cookie(tmp_path, python):
    root = write_project(tmp_path / "p", FILES)
    run = run_traced(root, python, ["test_enc.py::test_greet"])
    trace = run.traces["test_enc.py::test_greet"]
    latin = str(root / "latin.py")

    # The engine reads the traced files as Python decodes them.
    sources = load_sources(trace)
    path = next(f.path for f in trace.files if f.path.endswith("latin.py"))
    assert sources[path] == LATIN1

    # A patch of a latin-1 file is written in latin-1, so its literals keep their meaning.
    patched = LATIN1.replace('word + " " + name', 'word + ", " + name')
    with Sandbox(str(root)) as sandbox:
        written = sandbox.write("latin.py", patched)
        assert open(written, "rb").read() == patched.encode("latin-1")
    result = validate_patch(str(root), {"latin.py": patched}, ["test_enc.py::test_greet"], [],
                            interpreter=python, timeout=60)
    assert result.verified, result.detail
    assert open(latin, "rb").read() == LATIN1.encode("latin-1")  # the project is untouched
