"""Each repair operator on small sources: the exact text it produces."""

import textwrap

import pytest

from tracefix.server.engine.repair import edit_distance, line_edits, unified_diff
from tracefix.tracer.trace_format import Frame, SourceFile, Trace

PATH = "/project/m.py"


def _source(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def _int_trace(function_first_line: int, **args: str) -> Trace:
    """A trace in which the function at `function_first_line` got `args` as rendered values."""
    return Trace(
        test_id="test_m.py::test_x", outcome="failed", root="/project", python="3.11.7",
        backend="settrace", config={}, files=[SourceFile(PATH, "0")],
        frames=[Frame(id=1, file=0, function="f", qualname="f", first_line=function_first_line,
                      parent=None, thread="MainThread", depth=0, args=dict(args))],
    )


# (case id, source, line, operator kind, expected text of the whole file)
CASES = [
    ("compare lt-eq to lt", """
        def f(lo, hi):
            while lo <= hi:  # keep me
                lo += 1
     """, 2, "compare-operator", """
        def f(lo, hi):
            while lo < hi:  # keep me
                lo += 1
     """),
    ("compare not-in to in", "ok = x not in ys\n", 1, "compare-operator", "ok = x in ys\n"),
    ("compare is-not to is", "ok = x is not None\n", 1, "compare-operator", "ok = x is None\n"),
    ("compare eq to ne", "ok = a == b\n", 1, "compare-operator", "ok = a != b\n"),
    ("binary plus to minus", "x = a + b  # sum\n", 1, "binary-operator", "x = a - b  # sum\n"),
    ("binary keeps unicode", "s = 'é' + t  # ü\n", 1, "binary-operator", "s = 'é' - t  # ü\n"),
    ("augmented plus to minus", "x += 1\n", 1, "binary-operator", "x -= 1\n"),
    ("binary across lines", "total = (a +\n         b)\n", 1, "binary-operator",
     "total = (a -\n         b)\n"),
    ("boolean and to or", "if a and b:\n    pass\n", 1, "boolean-operator", "if a or b:\n    pass\n"),
    ("integer plus one", "x = y[0]\n", 1, "integer-off-by-one", "x = y[1]\n"),
    ("integer minus one", "x = y[0]\n", 1, "integer-off-by-one", "x = y[-1]\n"),
    ("range bound plus one", "for i in range(0, n):\n    pass\n", 1, "bound-off-by-one",
     "for i in range(0, n + 1):\n    pass\n"),
    ("slice bound minus one", "y = xs[i:j]\n", 1, "bound-off-by-one", "y = xs[i:j - 1]\n"),
    ("slice bound keeps grouping", "y = xs[:a or b]\n", 1, "bound-off-by-one",
     "y = xs[:(a or b) + 1]\n"),
    ("swap subtraction", "d = a - b\n", 1, "swap-operands", "d = b - a\n"),
    ("swap keeps grouping", "d = (a + b) - c\n", 1, "swap-operands", "d = (c) - (a + b)\n"),
    ("swap comparison", "if perm[j] < perm[i]:\n    pass\n", 1, "swap-operands",
     "if perm[i] < perm[j]:\n    pass\n"),
    ("swap call arguments", """
        def gcd(a, b):
            return gcd(a % b, b)
     """, 2, "swap-arguments", """
        def gcd(a, b):
            return gcd(b, a % b)
     """),
    ("negate comparison", "if x > 0:\n    pass\n", 1, "negate-condition", "if x <= 0:\n    pass\n"),
    ("negate membership", "while k not in seen:\n    pass\n", 1, "negate-condition",
     "while k in seen:\n    pass\n"),
    ("constant to zero drops operand", "for i in range(len(v) - 1):\n    pass\n", 1,
     "integer-off-by-one", "for i in range(len(v)):\n    pass\n"),
    ("negate boolean", "if a or b:\n    pass\n", 1, "negate-condition",
     "if not (a or b):\n    pass\n"),
    ("remove not", "if not done:\n    pass\n", 1, "remove-not", "if done:\n    pass\n"),
    ("remove not keeps brackets", "ok = x and not (a or b)\n", 1, "remove-not",
     "ok = x and (a or b)\n"),
    ("replace name", """
        def hanoi(start, end, helper):
            steps.append((start, helper))
     """, 2, "replace-name", """
        def hanoi(start, end, helper):
            steps.append((start, end))
     """),
    ("replace attribute", """
        def order(nodes):
            first = [n for n in nodes if not n.incoming]
            return [n for n in first if n.outgoing]
     """, 3, "replace-attribute", """
        def order(nodes):
            first = [n for n in nodes if not n.incoming]
            return [n for n in first if n.incoming]
     """),
    ("return another name", """
        def f(x, y):
            return g(x)
     """, 2, "return-name", """
        def f(x, y):
            return y
     """),
    ("call to its argument", """
        def flatten(arr):
            for x in arr:
                yield flatten(x)
     """, 3, "call-to-argument", """
        def flatten(arr):
            for x in arr:
                yield x
     """),
    ("drop an operand", """
        def lev(s, t):
            return 1 + lev(s[1:], t[1:])
     """, 2, "drop-operand", """
        def lev(s, t):
            return lev(s[1:], t[1:])
     """),
    ("constant condition to name", """
        def bfs(start):
            queue = [start]
            while True:
                queue.pop()
     """, 3, "constant-condition", """
        def bfs(start):
            queue = [start]
            while queue:
                queue.pop()
     """),
    ("empty list to nested", """
        def subsequences(a, b, k):
            return []
     """, 2, "empty-list", """
        def subsequences(a, b, k):
            return [[]]
     """),
    ("mirror a sibling slice", """
        def lcs(a, b):
            return a[0] + lcs(a[1:], b)
     """, 2, "mirror-slice", """
        def lcs(a, b):
            return a[0] + lcs(a[1:], b[1:])
     """),
    ("call to a local", """
        def path(node, distance):
            return get(node) + 1
     """, 2, "call-to-name", """
        def path(node, distance):
            return distance + 1
     """),
]


@pytest.mark.parametrize("source,line,kind,expected",
                         [(_source(s), n, k, _source(e)) for _, s, n, k, e in CASES],
                         ids=[case[0] for case in CASES])
def test_operator_produces_exact_text(source, line, kind, expected):
    produced = [edit.apply(source) for edit in line_edits(source, PATH, line) if edit.kind == kind]
    assert expected in produced, f"{kind} made:\n" + "\n---\n".join(produced)


def test_every_result_changes_only_its_line():
    source = _source("""
        # leading comment
        def f(lo, hi):  # trailing comment
            while lo <= hi:
                mid = (lo + hi) // 2
            return mid  # result
    """)
    for edit in line_edits(source, PATH, 4):
        changed = [i for i, (a, b) in enumerate(zip(source.splitlines(), edit.apply(source).splitlines()))
                   if a != b]
        assert changed == [3], edit


def test_integer_argument_needs_traced_int():
    source = _source("""
        def f(mid, end):
            return g(mid, end)
    """)
    untyped = [e.apply(source) for e in line_edits(source, PATH, 2) if e.kind == "bound-off-by-one"]
    traced = [e.apply(source) for e in line_edits(source, PATH, 2, _int_trace(1, mid="3", end="7"))
              if e.kind == "bound-off-by-one"]
    assert untyped == []
    assert "def f(mid, end):\n    return g(mid + 1, end)\n" in traced


def test_name_replacement_skips_other_kinds():
    source = _source("""
        def f(items, count):
            return items
    """)
    trace = _int_trace(1, items="[1, 2]", count="2")
    replaced = [e.apply(source) for e in line_edits(source, PATH, 2, trace) if e.kind == "replace-name"]
    assert replaced == []


def test_unparsable_source_gives_no_edits():
    assert line_edits("def f(:\n", PATH, 1) == []


def test_fstring_constants_are_left_alone():
    kinds = {e.kind for e in line_edits("s = f'{x[0]}'\n", PATH, 1)}
    assert "integer-off-by-one" not in kinds


def test_edit_distance_trims_common_parts():
    assert edit_distance("a % b, b", "b, a % b") == 5
    assert edit_distance("lo <= hi", "lo < hi") == 1
    assert edit_distance("", "abc") == 3


def test_unified_diff_marks_missing_newline():
    diff = unified_diff("x = 1", "x = 2", "m.py")
    assert diff.startswith("--- a/m.py\n+++ b/m.py\n")
    assert "-x = 1\n\\ No newline at end of file\n+x = 2\n\\ No newline at end of file\n" in diff


def test_constant_condition_uses_object_locals():
    source = _source("""
        def bfs(queue):
            while True:
                queue.popleft()
    """)
    trace = _int_trace(1, queue="deque([1, 2])")
    produced = [e.apply(source) for e in line_edits(source, PATH, 2, trace)
                if e.kind == "constant-condition"]
    assert "def bfs(queue):\n    while queue:\n        queue.popleft()\n" in produced


def test_no_degenerate_off_by_one_forms():
    source = _source("for i in range(len(v) - 1):\n    pass\n")
    produced = [edit.apply(source) for edit in line_edits(source, PATH, 1)]
    assert "for i in range(len(v) - 0):\n    pass\n" not in produced
    assert "for i in range(len(v) - 1 + 1):\n    pass\n" not in produced
    assert "for i in range(len(v) - 2):\n    pass\n" in produced
