"""Kind 12: multi-line statements and f-strings, CRLF files, a form feed and U+2028,
tab indentation.

Every value lands on the line Python reports. A multi-line statement counts one hit
per execution, not one per physical line, so it does not look like a loop. The inline
rendering puts each comment on the right line."""

from __future__ import annotations

from pathlib import Path

from hostile_helpers import hits, lines_run, run_traced, values_at, write_project

from tracefix.tracer.inline import render_inline, source_lines
from tracefix.tracer.source_text import read_source

LAYOUT = (
    "def combine(a, b):\n"
    "    total = (a +\n"
    "             b)\n"
    '    label = f"""{a}\n'
    '-{b}"""\n'
    "    parts = []\n"
    "    for i in range(3):\n"
    "        parts.append(\n"
    "            i * total)\n"
    "    return total, label, parts\n"
    "\x0c\n"
    "def special():\n"
    '    text = "left\u2028right"\n'
    "    after = len(text)\n"
    "    return after\n"
    "\n"
    "def guarded(x):\n"
    "    try:\n"
    "        value = 10 // x\n"
    "    except (ZeroDivisionError,\n"
    "            TypeError) as err:\n"
    "        value = -1\n"
    "    return value\n"
)
TABS = (
    "def tabbed(n):\n"
    "\tacc = 0\n"
    "\tfor i in range(n):\n"
    "\t\tacc += (i +\n"
    "\t\t\t1)\n"
    "\treturn acc\n"
)
CRLF = (
    "def crlf_sum(xs):\r\n"
    "    s = 0\r\n"
    "    for x in xs:\r\n"
    "        s = (s +\r\n"
    "             x)\r\n"
    "    return s\r\n"
)
FILES = {
    "layout.py": LAYOUT.encode("utf-8"),
    "tabs.py": TABS.encode("utf-8"),
    "crlf.py": CRLF.encode("utf-8"),
    "test_layout.py": '''
        from crlf import crlf_sum
        from layout import combine, guarded, special
        from tabs import tabbed

        def test_layout():
            got = (combine(1, 2), special(), tabbed(3), crlf_sum([1, 2, 3]), guarded(0))
            assert got == ()
        ''',
}


def number_of(root: Path, name: str, marker: str) -> int:
    """The 1-based line of `marker`, counting lines as Python does (not `splitlines`)."""
    lines = source_lines(read_source(str(root / name)))
    found = [n for n, text in enumerate(lines, 1) if marker in text]
    assert len(found) == 1, f"{marker!r} is on lines {found} of {name}"
    return found[0]


def rendered_line(rendering: str, start: str) -> str:
    found = [line for line in rendering.splitlines() if line.startswith(start)]
    assert len(found) == 1, f"{start!r} starts {len(found)} lines of:\n{rendering}"
    return found[0]


def test_values_land_on_python_lines(tmp_path, any_python):
    root = write_project(tmp_path / "p", FILES)
    run = run_traced(root, any_python)
    trace = run.traces["test_layout.py::test_layout"]
    assert trace.outcome == "failed" and trace.reliable, trace.notes

    # A multi-line expression: one hit on its first line, none on the continuation.
    total = number_of(root, "layout.py", "total = (a +")
    assert values_at(trace, root, "layout.py", total) == [{"total": "3"}]
    assert hits(trace, root, "layout.py", total) == 1
    assert total + 1 not in lines_run(trace, root, "layout.py")

    label = number_of(root, "layout.py", 'label = f"""')
    assert values_at(trace, root, "layout.py", label) == [{"label": "'1\\n-2'"}]
    assert hits(trace, root, "layout.py", label) == 1
    assert label + 1 not in lines_run(trace, root, "layout.py")

    # A multi-line call in a loop: one hit per iteration.
    append = number_of(root, "layout.py", "parts.append(")
    assert hits(trace, root, "layout.py", append) == 3
    assert [v.get("parts") for v in values_at(trace, root, "layout.py", append)] == \
        ["[0]", "[0, 3]", "[0, 3, 6]"]
    assert append + 1 not in lines_run(trace, root, "layout.py")

    # After a form feed line and a U+2028 in a string, lines still count as Python's.
    after = number_of(root, "layout.py", "after = len(text)")
    assert values_at(trace, root, "layout.py", after) == [{"after": "10"}]
    text = number_of(root, "layout.py", 'text = "left')
    assert values_at(trace, root, "layout.py", text) == [{"text": "'left\\u2028right'"}]

    # A multi-line except header: one hit, none on its continuation line.
    header = number_of(root, "layout.py", "except (ZeroDivisionError,")
    assert hits(trace, root, "layout.py", header) == 1
    assert header + 1 not in lines_run(trace, root, "layout.py")
    assert values_at(trace, root, "layout.py", header + 2) == [{"value": "-1"}]

    # Tabs for indentation.
    acc = number_of(root, "tabs.py", "acc += (i +")
    assert [v.get("acc") for v in values_at(trace, root, "tabs.py", acc)] == ["1", "3", "6"]
    assert hits(trace, root, "tabs.py", acc) == 3

    # CRLF line endings.
    add = number_of(root, "crlf.py", "s = (s +")
    assert [v.get("s") for v in values_at(trace, root, "crlf.py", add)] == ["1", "3", "6"]
    assert hits(trace, root, "crlf.py", add) == 3
    assert add + 1 not in lines_run(trace, root, "crlf.py")


def test_inline_comments_on_right_lines(tmp_path, any_python):
    root = write_project(tmp_path / "p", FILES)
    run = run_traced(root, any_python)
    trace = run.traces["test_layout.py::test_layout"]
    sources = {f.path: read_source(f.path) for f in trace.files}
    rendering = render_inline(trace, sources)

    assert "total=3" in rendered_line(rendering, "    total = (a +")
    assert rendered_line(rendering, "             b)") == "             b)"
    assert "label='1\\n-2'" in rendered_line(rendering, '    label = f"""{a}')
    assert rendered_line(rendering, '-{b}"""') == '-{b}"""'
    assert "parts=[0, 3, 6]" in rendered_line(rendering, "        parts.append(")
    assert rendered_line(rendering, "            i * total)") == "            i * total)"
    assert "after=10" in rendered_line(rendering, "    after = len(text)")
    assert "acc=6" in rendered_line(rendering, "\t\tacc += (i +")
    # The CRLF file's lines carry no stray carriage return, and the comment is on
    # the statement's first line.
    assert "\r" not in rendering.replace("\\r", "")
    assert "s=6" in rendered_line(rendering, "        s = (s +")
    assert rendered_line(rendering, "             x)") == "             x)"
