"""Value rendering: bounded, exact for built-ins, and never running user code."""

import collections
import datetime
import decimal
import enum
import fractions
import pathlib

import numpy
import pytest

from tracefix.tracer.values import Renderer, is_raw
from tracer_samples import hostile

render = Renderer(value_width=120, container_items=20).render


class Color(enum.Enum):
    RED = 1


def test_builtin_scalars():
    assert render(3) == "3"
    assert render(-2.5) == "-2.5"
    assert render(True) == "True"
    assert render(None) == "None"
    assert render("a'b") == '"a\'b"'
    assert render(b"\x00x") == "b'\\x00x'"
    assert render(1 + 2j) == "(1+2j)"


def test_huge_int_shows_digit_count():
    # 3.11+ refuses str() of ints over 4300 digits; the renderer must not try.
    assert render(10 ** 5000) == "<int with about 5001 digits>"


def test_long_string_is_truncated_with_count():
    assert render("x" * 500) == "'" + "x" * 120 + "'…(+380 chars)"
    assert render(b"y" * 130) == "b'" + "y" * 120 + "'…(+10 bytes)"


def test_containers_bounded_with_count():
    assert render(list(range(25))) == "[" + ", ".join(map(str, range(20))) + ", ...+5]"
    assert render((1,)) == "(1,)"
    assert render({"a": 1}) == "{'a': 1}"
    assert render(set()) == "set()"
    assert render(collections.deque([1, 2])) == "deque([1, 2])"
    assert render(collections.Counter("aa")) == "Counter({'a': 2})"


def test_cycle_shows_ellipsis():
    items = [1]
    items.append(items)
    assert render(items) == "[1, ...]"
    table = {}
    table["self"] = table
    assert render(table) == "{'self': {...}}"


def test_nesting_depth_is_bounded():
    assert render([[[[[[1]]]]]]) == "[[[[[...]]]]]"


def test_library_types():
    assert render(datetime.date(2024, 1, 2)) == "datetime.date(2024, 1, 2)"
    assert render(datetime.timedelta(seconds=3)) == "datetime.timedelta(seconds=3)"
    assert render(decimal.Decimal("1.5")) == "Decimal('1.5')"
    assert render(fractions.Fraction(1, 3)) == "Fraction(1, 3)"
    assert render(pathlib.PurePosixPath("/a/b")) == "PurePosixPath('/a/b')"

    assert render(Color.RED) == "Color.RED"


def test_numpy_array_shape_dtype_head():
    text = render(numpy.arange(100, dtype=numpy.int64).reshape(10, 10))
    assert text.startswith("ndarray(shape=(10, 10), dtype=int64, [0, 1, 2,")
    assert "...+" in text
    assert render(numpy.float64(1.5)) == "float64(1.5)"


def test_user_object_fields_and_qualname():
    class Point:
        def __init__(self):
            self.x = 1
            self.y = "a"

    assert render(Point()) == "test_user_object_fields_and_qualname.<locals>.Point(x=1, y='a')"


def test_slots_read_through_descriptors():
    hostile.CALLS.clear()
    assert render(hostile.Slotted()) == "Slotted(x=1, __y=2)"
    assert hostile.CALLS == []


@pytest.mark.parametrize("factory", [
    hostile.Hostile, hostile.GetattributeTrap, hostile.DictProperty, hostile.WithMeta,
    lambda: hostile.ListSubclass([1]), lambda: hostile.ErrorWithStr("x"),
])
def test_hostile_objects_run_no_user_code(factory):
    obj = factory()
    hostile.CALLS.clear()
    text = render(obj)
    assert hostile.CALLS == [], text
    assert isinstance(text, str)


def test_hostile_object_rendering_content():
    hostile.CALLS.clear()
    assert render(hostile.Hostile()) == "Hostile(a=1, b=[1, 2])"
    assert render(hostile.GetattributeTrap()) == "GetattributeTrap(x=5)"
    assert render(hostile.DictProperty()) == "<DictProperty object>"
    # The metaclass __getattribute__ is not consulted: type's own slot is read.
    assert render(hostile.WithMeta()) == "WithMeta(v=3)"
    assert render(hostile.ListSubclass([1])) == "ListSubclass()"
    assert hostile.CALLS == []


def test_hostile_in_containers_and_as_dict_key():
    hostile.CALLS.clear()
    text = render({"k": [hostile.Hostile()]})
    assert text == "{'k': [Hostile(a=1, b=[1, 2])]}"
    assert hostile.CALLS == []


def test_exception_rendered_from_args():
    renderer = Renderer()
    hostile.CALLS.clear()
    assert renderer.render_exception(hostile.ErrorWithStr("boom")) == "ErrorWithStr: boom"
    assert renderer.render_exception(KeyError("k")) == "KeyError: k"
    assert renderer.render_exception(ValueError()) == "ValueError"
    # One argument of another type is shown alone, as Python's str() does.
    assert renderer.render_exception(SystemExit(3)) == "SystemExit: 3"
    assert renderer.render_exception(ValueError(1, "two")) == "ValueError: (1, 'two')"
    assert hostile.CALLS == []


def test_width_applies_to_nested_output():
    narrow = Renderer(value_width=30, container_items=20).render
    text = narrow(["abcdefghij"] * 10)
    assert "…(+" in text
    assert len(text.split("…")[0]) == 30


def test_is_raw_only_for_immutable_builtins():
    assert is_raw(1)
    assert is_raw("s")
    assert is_raw((1, "a"))
    assert is_raw(None)
    assert not is_raw([1])
    assert not is_raw((1, [2]))
    assert not is_raw(hostile.Hostile())
