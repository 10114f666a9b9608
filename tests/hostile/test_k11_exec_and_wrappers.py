"""Kind 11: code run through `exec()`, with and without a source registered in
`linecache`, and functions behind decorators, `staticmethod`, `classmethod`,
`property` and `functools.wraps` wrappers.

The generated code the project calls is traced under its pseudo file name, and the
standard library's generated methods are not. Every wrapper and wrapped frame is
recorded with its qualname and values."""

from __future__ import annotations

from hostile_helpers import line_of, lines_run, run_traced, values_at, write_project

from tracefix.server.engine.pipeline import load_sources
from tracefix.tracer.inline import render_inline

GENERATED = {
    "gen.py": '''
        import linecache

        REGISTERED = "def scaled(x):\\n    y = x * 3\\n    return y + 1\\n"
        PLAIN = "def halved(x):\\n    h = x // 2\\n    return h\\n"


        def build():
            ns = {}
            # Register the text the way attrs and Jinja do, so tracebacks can show it.
            linecache.cache["<registered-gen>"] = (
                len(REGISTERED), None, REGISTERED.splitlines(True), "<registered-gen>")
            exec(compile(REGISTERED, "<registered-gen>", "exec"), ns)
            exec(compile(PLAIN, "<plain-gen>", "exec"), ns)
            return ns


        NS = build()  # compiled at import, before any test is recorded


        def use_generated(v):
            a = NS["scaled"](v)
            b = NS["halved"](a)
            return a, b


        def exec_in_test(v):
            ns = {}
            exec("def tripled(x):\\n    t = x * 3\\n    return t\\n", ns)
            got = ns["tripled"](v)
            return got
        ''',
    "test_gen.py": '''
        from gen import exec_in_test, use_generated

        def test_generated():
            assert use_generated(5) == (0, 0)

        def test_exec_in_test():
            assert exec_in_test(4) == 0
        ''',
}


def _file(trace, path):
    index = trace.file_index(path)
    assert index is not None, f"{path} is not in the trace: {[f.path for f in trace.files]}"
    return index


def _values(trace, path, line):
    index = _file(trace, path)
    return [s.values for s in trace.steps if s.file == index and s.line == line]


def test_exec_generated_code_is_traced(tmp_path, any_python):
    root = write_project(tmp_path / "p", GENERATED)
    run = run_traced(root, any_python)
    trace = run.traces["test_gen.py::test_generated"]
    assert run.baseline.outcomes["test_gen.py::test_generated"].outcome == "failed"
    assert trace.outcome == "failed" and trace.reliable, trace.notes

    # With a registered source: traced under its pseudo name, text carried in the trace.
    registered = trace.files[_file(trace, "<registered-gen>")]
    assert registered.text == "def scaled(x):\n    y = x * 3\n    return y + 1\n"
    assert _values(trace, "<registered-gen>", 2) == [{"y": "15"}]
    assert _values(trace, "<registered-gen>", 3) == [{"__return__": "16"}]
    scaled = [f for f in trace.frames if f.qualname == "scaled"]
    assert len(scaled) == 1
    assert scaled[0].args == {"x": "5"}

    # Without one: traced by line number, and a note names the pseudo file.
    plain = trace.files[_file(trace, "<plain-gen>")]
    assert plain.text is None
    assert _values(trace, "<plain-gen>", 2) == [{"h": "8"}]
    assert any("<plain-gen>" in note and "no source" in note for note in trace.notes), \
        trace.notes

    # The callers' values are right too.
    call = line_of(root, "gen.py", 'b = NS["halved"](a)')
    assert values_at(trace, root, "gen.py", call) == [{"b": "8"}]

    # The inline rendering shows the registered text with its values, and the
    # generated function without source by line number.
    text = render_inline(trace, {})
    assert "# <registered-gen>" in text
    assert "    y = x * 3  # (" in text
    assert "y=15" in text
    assert "# <plain-gen>" in text
    assert "line 2:  # (" in text
    assert "h=8" in text

    # The engine reads only real files, and its rendering takes the trace's copy.
    sources = load_sources(trace)
    assert "<registered-gen>" not in sources
    assert "<plain-gen>" not in sources
    assert "    y = x * 3  # (" in render_inline(trace, sources)


def test_exec_in_test_traces_module_code(tmp_path, any_python):
    root = write_project(tmp_path / "p", GENERATED)
    run = run_traced(root, any_python, ["test_gen.py::test_exec_in_test"])
    trace = run.traces["test_gen.py::test_exec_in_test"]
    assert trace.outcome == "failed" and trace.reliable, trace.notes
    # exec() of a plain string, run by project code: `<string>`, traced.
    assert _values(trace, "<string>", 2) == [{"t": "12"}]
    assert any("<string>" in note for note in trace.notes), trace.notes
    got = line_of(root, "gen.py", 'got = ns["tripled"](v)')
    assert values_at(trace, root, "gen.py", got) == [{"got": "12"}]


STDLIB_GENERATED = {
    "shapes.py": '''
        import collections
        import dataclasses
        import typing


        @dataclasses.dataclass(frozen=True)
        class Point:
            x: int
            y: int


        Pair = collections.namedtuple("Pair", "a b")


        class Named(typing.NamedTuple):
            a: int


        def build(n):
            points = [Point(i, -i) for i in range(n)]
            pairs = [Pair(i, i) for i in range(n)]
            named = [Named(i) for i in range(n)]
            same = points[0] == Point(0, 0)
            return len(points) + len(pairs) + len(named), same
        ''',
    "test_shapes.py": '''
        from shapes import build

        def test_build():
            assert build(3) == (0, True)
        ''',
}


def test_stdlib_generated_methods_are_not_traced(tmp_path, any_python):
    root = write_project(tmp_path / "p", STDLIB_GENERATED)
    run = run_traced(root, any_python)
    trace = run.traces["test_shapes.py::test_build"]
    assert trace.outcome == "failed" and trace.reliable, trace.notes
    # dataclass __init__/__eq__ and namedtuple __new__ are exec'd by the stdlib.
    assert [f.path for f in trace.files if f.path.startswith("<")] == []
    assert not any("generated code" in note for note in trace.notes), trace.notes
    assert "build" in {f.qualname for f in trace.frames}
    assert not any("__create_fn__" in f.qualname for f in trace.frames)
    same = line_of(root, "shapes.py", "same = points[0] == Point(0, 0)")
    assert values_at(trace, root, "shapes.py", same) == [{"same": "True"}]


WRAPPERS = {
    "bank.py": '''
        import functools


        def logged(func):
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                result = func(*args, **kwargs)
                return result
            return wrapper


        class Account:
            def __init__(self, balance):
                self._balance = balance

            @property
            def balance(self):
                shown = self._balance * 1
                return shown

            @staticmethod
            @logged
            def fee(amount):
                cut = amount // 10
                return cut

            @classmethod
            def opened(cls, amount):
                account = cls(amount)
                return account

            @logged
            def withdraw(self, amount):
                left = self._balance - amount - self.fee(amount)
                self._balance = left
                return left


        def run():
            account = Account.opened(100)
            left = account.withdraw(50)
            seen = account.balance
            return left, seen
        ''',
    "test_bank.py": '''
        from bank import run

        def test_run():
            assert run() == (0, 0)
        ''',
}


def test_wrappers_and_wrapped_frames_recorded(tmp_path, any_python):
    root = write_project(tmp_path / "p", WRAPPERS)
    run = run_traced(root, any_python)
    trace = run.traces["test_bank.py::test_run"]
    assert trace.outcome == "failed" and trace.reliable, trace.notes
    qualnames = [f.qualname for f in trace.frames]
    # Two calls go through `wrapper`: withdraw and fee.
    assert qualnames.count("logged.<locals>.wrapper") == 2
    for name in ("Account.opened", "Account.__init__", "Account.withdraw", "Account.fee",
                 "run"):
        assert qualnames.count(name) == 1, qualnames
    # The property getter ran once, when `run` read it; the tracer never calls it.
    assert qualnames.count("Account.balance") == 1
    frames = {f.id: f for f in trace.frames}
    withdraw = next(f for f in trace.frames if f.qualname == "Account.withdraw")
    assert frames[withdraw.parent].qualname == "logged.<locals>.wrapper"
    assert withdraw.args == {"self": withdraw.args["self"], "amount": "50"}
    balance = next(f for f in trace.frames if f.qualname == "Account.balance")
    assert frames[balance.parent].qualname == "run"

    cut = line_of(root, "bank.py", "cut = amount // 10")
    assert values_at(trace, root, "bank.py", cut) == [{"cut": "5"}]
    left = line_of(root, "bank.py", "left = self._balance - amount")
    assert values_at(trace, root, "bank.py", left) == [{"left": "45"}]
    shown = line_of(root, "bank.py", "shown = self._balance * 1")
    assert values_at(trace, root, "bank.py", shown) == [{"shown": "45"}]
    result = line_of(root, "bank.py", "result = func(*args, **kwargs)")
    # Steps are numbered when their line starts: withdraw's wrapper line starts first.
    assert [v.get("result") for v in values_at(trace, root, "bank.py", result)] == ["45", "5"]
    seen = line_of(root, "bank.py", "seen = account.balance")
    assert values_at(trace, root, "bank.py", seen) == [{"seen": "45"}]
    # Decorator lines ran at import, before recording: no step lands on them.
    assert line_of(root, "bank.py", "@staticmethod") not in lines_run(trace, root, "bank.py")
