"""Kind 16: objects whose dunders raise, hang or have side effects.

The project's classes count every call of `__repr__`, `__eq__`, `__len__`, `__bool__`,
`__getattribute__`, `__getattr__`, `__hash__` and `__iter__` in a global list. The
test fails with a message that shows those calls, so equal messages traced and
untraced mean that the tracer called none of them. Other classes raise or hang in the same methods:
a tracer that called them would change the outcome or time out. A
`functools.cached_property` filled by `__repr__` shows whether a repr ran.
"""

from __future__ import annotations

from hostile_helpers import line_of, run_traced, values_at, write_project

DUNDERS = {
    "hostile.py": '''
        import functools
        import time

        CALLS = []


        class Counting:
            def __init__(self, value):
                self.value = value

            def __repr__(self):
                CALLS.append("repr")
                return f"Counting({self.value})"

            def __eq__(self, other):
                CALLS.append("eq")
                return isinstance(other, Counting) and other.value == self.value

            def __hash__(self):
                CALLS.append("hash")
                return 1

            def __len__(self):
                CALLS.append("len")
                return 1

            def __bool__(self):
                CALLS.append("bool")
                return True

            def __iter__(self):
                CALLS.append("iter")
                return iter([self.value])

            def __getattr__(self, name):
                CALLS.append("getattr " + name)
                raise AttributeError(name)


        class Watching:
            def __init__(self, value):
                self.value = value

            def __getattribute__(self, name):
                CALLS.append("getattribute " + name)
                return object.__getattribute__(self, name)


        class Raising:
            def __init__(self):
                self.state = "ok"

            def __repr__(self):
                raise RuntimeError("repr called")

            def __eq__(self, other):
                raise RuntimeError("eq called")

            __hash__ = None

            def __len__(self):
                raise RuntimeError("len called")

            def __bool__(self):
                raise RuntimeError("bool called")

            def __getattribute__(self, name):
                if name not in ("__dict__", "__class__", "state"):
                    raise RuntimeError("getattribute " + name)
                return object.__getattribute__(self, name)


        class Hanging:
            def __init__(self):
                self.size = 3

            def __repr__(self):
                while True:
                    pass

            def __eq__(self, other):
                time.sleep(100)

            def __len__(self):
                time.sleep(100)

            def __bool__(self):
                time.sleep(100)


        class Lazy:
            def __init__(self, n):
                self.n = n

            @functools.cached_property
            def total(self):
                CALLS.append("total")
                return sum(range(self.n))

            def __repr__(self):
                return f"Lazy(total={self.total})"


        def use_them():
            counting = Counting(1)
            counting.value = 2
            twin = counting
            items = [counting, Counting(3)]
            items.append(Counting(4))
            watching = Watching(5)
            watching.value = 6
            raising = Raising()
            raising.state = "changed"
            hanging = Hanging()
            hanging.size = 4
            lazy = Lazy(10)
            lazy.n = 11
            pairs = {"c": counting, "r": raising, "h": hanging}
            return lazy
        ''',
    "test_hostile.py": '''
        import hostile

        def test_dunders():
            lazy = hostile.use_them()
            calls = list(hostile.CALLS)
            filled = "total" in object.__getattribute__(lazy, "__dict__")
            assert (calls, filled) == ([], True)
        ''',
}


def test_dunders_called_only_by_the_code(tmp_path, any_python):
    root = write_project(tmp_path / "p", DUNDERS)
    run = run_traced(root, any_python, timeout=120)
    nodeid = "test_hostile.py::test_dunders"
    baseline = run.baseline.outcomes[nodeid]
    assert baseline.outcome == "failed"
    # Untraced, the code itself calls none of the counted methods.
    assert "([], False) == ([], True)" in baseline.message
    traced = run.traced.outcomes[nodeid]
    assert traced.outcome == "failed"
    assert traced.message == baseline.message
    trace = run.traces[nodeid]
    assert trace.reliable, trace.notes
    assert trace.budget is None, trace.budget


def test_dunders_objects_rendered_from_fields(tmp_path, any_python):
    root = write_project(tmp_path / "p", DUNDERS)
    run = run_traced(root, any_python, timeout=120)
    trace = run.traces["test_hostile.py::test_dunders"]

    def value(marker: str, name: str) -> str:
        line = line_of(root, "hostile.py", marker)
        found = values_at(trace, root, "hostile.py", line)
        assert len(found) == 1, (marker, found)
        return found[0][name]

    # Each object shows as its type and the fields of its `__dict__`, and a change of
    # a field shows on the line that made it.
    assert value("counting = Counting(1)", "counting") == "Counting(value=1)"
    assert value("counting.value = 2", "counting") == "Counting(value=2)"
    assert value("twin = counting", "twin") == "Counting(value=2)"
    assert value("items.append(Counting(4))", "items") == \
        "[Counting(value=2), Counting(value=3), Counting(value=4)]"
    assert value("watching = Watching(5)", "watching") == "Watching(value=5)"
    assert value("watching.value = 6", "watching") == "Watching(value=6)"
    assert value("raising = Raising()", "raising") == "Raising(state='ok')"
    assert value('raising.state = "changed"', "raising") == "Raising(state='changed')"
    assert value("hanging = Hanging()", "hanging") == "Hanging(size=3)"
    assert value("hanging.size = 4", "hanging") == "Hanging(size=4)"
    # The cached property is not filled: no repr ran.
    assert value("lazy = Lazy(10)", "lazy") == "Lazy(n=10)"
    assert value("lazy.n = 11", "lazy") == "Lazy(n=11)"
    assert value("pairs = {", "pairs") == \
        "{'c': Counting(value=2), 'r': Raising(state='changed'), 'h': Hanging(size=4)}"
    returned = value("return lazy", "__return__")
    assert returned == "Lazy(n=11)"
