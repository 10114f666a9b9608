"""The NExT-style inline rendering of recorded traces."""

from tracefix.tracer import render_inline
from tracefix.tracer.trace_format import Failure
from tracer_helpers import SAMPLES, record
from tracer_samples import algos

ALGOS = str(SAMPLES / "algos.py")


def sources_of(trace):
    return {f.path: open(f.path, encoding="utf-8").read() for f in trace.files}


def test_bitcount_lines_hand_checked():
    _, trace = record(algos.bitcount, 127)

    text = render_inline(trace, sources_of(trace))

    assert "def bitcount(n):  # call: n=127\n" in text
    assert "    count = 0  # (1) count=0\n" in text
    assert "    while n:  # (2); (5); (8); ... (17); (20); (23)\n" in text
    assert ("        n &= n - 1  # (3) n=126; (6) n=124; (9) n=120; ... "
            "(15) n=96; (18) n=64; (21) n=0\n") in text
    assert ("        count += 1  # (4) count=1; (7) count=2; (10) count=3; ... "
            "(16) count=5; (19) count=6; (22) count=7\n") in text
    assert "    return count  # (24) __return__=7\n" in text
    assert text.startswith("# Trace of sample (unknown); Python ")


def test_recursive_calls_on_def_line():
    _, trace = record(algos.gcd, 35, 21)

    text = render_inline(trace, sources_of(trace))

    assert ("def gcd(a, b):  # call: a=35, b=21; call: a=21, b=14; call: a=14, b=7; "
            "call: a=7, b=0\n") in text
    assert "        return gcd(b, a % b)  # (2) __return__=7; (4) __return__=7; (6) __return__=7\n" in text


def test_many_calls_are_compressed():
    _, trace = record(algos.factorial, 9)

    line = next(l for l in render_inline(trace, sources_of(trace)).splitlines()
                if l.startswith("def factorial"))
    assert "call: n=9; call: n=8; call: n=7; ... call: n=3; call: n=2; call: n=1" in line


def test_generator_yields_and_test_function_last():
    _, trace = record(algos.collect, 3)
    trace.test_id = "test_algos.py::collect"  # makes `collect` the test function

    text = render_inline(trace, sources_of(trace))

    assert text.index("def squares(n):") < text.index("def collect(n):")
    assert "        yield i * i  # (4) __yield__=0; (8) __yield__=1; (12) __yield__=4\n" in text
    assert "    for x in squares(n):  # (2) x=0; (6) x=1; (10) x=4; (14)\n" in text


def test_exception_and_failure_footer():
    _, trace = record(algos.fails, {})
    trace.failure = Failure(exc_type="KeyError", message="'missing'", file=ALGOS, line=40)

    text = render_inline(trace, sources_of(trace))

    assert ('    value = d["missing"]  # (1) __exception__=KeyError: missing; '
            "!! KeyError raised here\n") in text
    assert text.rstrip().endswith("# FAILED at algos.py:40: KeyError: 'missing'")


def test_uses_given_sources_only():
    _, trace = record(algos.loop, 2)
    lines = open(ALGOS, encoding="utf-8").read().splitlines()
    lines[34] = "        total = total + i  # edited"

    text = render_inline(trace, {ALGOS: "\n".join(lines)})

    assert "        total = total + i  # edited  # (3); (5) total=1\n" in text
    assert render_inline(trace, {ALGOS: "\n".join(lines)}) == text


def test_missing_source_shows_executed_lines():
    _, trace = record(algos.loop, 2)

    text = render_inline(trace, {})

    assert "line 35:  # (3); (5) total=1" in text
    assert "def loop" not in text


def _record_module(folder, name, source, *args):
    """Write `source` as `name`.py in `folder`, import it, and record its `f(*args)`."""
    import importlib.util

    from tracefix.tracer import Recording, TraceConfig

    path = folder / f"{name}.py"
    path.write_bytes(source.encode("utf-8"))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    recording = Recording(TraceConfig(root=str(folder)))
    recording.start()
    try:
        module.f(*args)
    finally:
        recording.stop()
    return recording.trace("sample"), {str(path): path.read_bytes().decode("utf-8")}


LINES = ['def f(n):', '    s = "a\u2028b"  # a line separator inside a string', '    \x0c',
         '    total = 0', '    for i in range(n):', '        total += i', '    return total - 1', '']


def test_line_separators_keep_values_on_their_lines(tmp_path):
    # Python ends lines only at \n, \r\n and \r: a form feed line and a U+2028 inside a
    # string stay within their lines, so every value below them keeps its line.
    from tracefix.tracer.inline import source_lines

    for newline in ("\n", "\r\n"):
        trace, sources = _record_module(tmp_path, f"lsep{len(newline)}", newline.join(LINES), 3)
        rendered = source_lines(render_inline(trace, sources))

        assert "    total = 0  # (2) total=0" in rendered, rendered
        assert "    for i in range(n):  # (3) i=0; (5) i=1; (7) i=2; (9)" in rendered
        assert "        total += i  # (4); (6) total=1; (8) total=3" in rendered
        assert "    return total - 1  # (10) __return__=2" in rendered


def test_source_lines_split_like_python():
    from tracefix.tracer.inline import source_lines

    assert source_lines("a\r\nb\rc\nd\x0ce\u2028f\n") == ["a", "b", "c", "d\x0ce\u2028f"]
    assert source_lines("x") == ["x"]
    assert source_lines("") == []


def test_threads_not_traced_are_named_in_the_trace(tmp_path):
    # settrace follows one thread, so a thread started by the traced code is not traced.
    # The trace names it, because values may come from code the trace does not show.
    source = "\n".join([
        "import threading",
        "",
        "def wait(started, release):",
        "    started.set()",
        "    release.wait()",
        "",
        "def f(release):",
        "    started = threading.Event()",
        "    worker = threading.Thread(target=wait, args=(started, release),",
        "                              name='tracefix-test-worker')",
        "    worker.start()",
        "    started.wait()",
        "    return worker",
        "",
    ])
    import threading

    release = threading.Event()
    try:
        trace, sources = _record_module(tmp_path, "threads", source, release)
    finally:
        release.set()

    assert trace.threads_not_traced == ["tracefix-test-worker (wait)"]
    text = render_inline(trace, sources)
    assert text.rstrip().endswith("# NOTE: other threads ran while recording and are not "
                                  "traced: tracefix-test-worker (wait)")
