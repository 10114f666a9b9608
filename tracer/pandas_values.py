"""Render pandas DataFrame, Series and Index objects without their `__repr__`.

Reading a pandas object through its `__dict__` shows only its block manager, so a
changed cell would not change the rendering. These handlers read the column arrays
and labels instead, through pandas' own accessors, and never call `__repr__`, `__eq__`
or `__bool__` (whose result on a frame is itself a frame, or raises). Only the exact
classes exported by the `pandas` module that is already imported get a handler, so a
user subclass is still rendered as a user object from its fields.

The accessors (`_get_column_array`, `_values`) return the stored arrays without copying
and without the copy-on-write references that slicing a pandas object would add to the
original. `_get_column_array` may fill the block manager's lazily computed
column-to-block maps, which pandas computes on the first column access anyway.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from .foreign import reraise_foreign

Handler = Callable[[Any, int, set], str]

_EXPORTED = ("DataFrame", "Series", "Index", "RangeIndex")


def pandas_handler(renderer: Any, cls: type) -> Handler | None:
    """Return the handler for `cls` when it is one of pandas' own frame, series or index
    classes, else None."""
    module = sys.modules.get("pandas")
    if module is None:
        return None
    try:
        namespace = object.__getattribute__(module, "__dict__")
    except Exception as exc:
        reraise_foreign(exc)
        return None
    for name in _EXPORTED:
        if namespace.get(name) is cls:
            return _PandasRenderer(renderer, name).render
    return None


class _PandasRenderer:
    def __init__(self, renderer: Any, kind: str) -> None:
        self.renderer = renderer
        self.kind = kind

    def render(self, value: Any, depth: int, seen: set) -> str:
        if self.kind == "DataFrame":
            return self._frame(value, depth, seen)
        if self.kind == "Series":
            return self._series(value, depth, seen)
        if self.kind == "RangeIndex":
            return f"RangeIndex({value.start}, {value.stop}, {value.step})"
        return f"Index(dtype={value.dtype}, {self._array(value._values, depth, seen)})"

    def _frame(self, value: Any, depth: int, seen: set) -> str:
        renderer = self.renderer
        rows, count = value.shape
        labels = _labels(value.columns, renderer.items)
        parts: list[str] = []
        used = 0
        for position, label in enumerate(labels):
            if used > renderer.width:
                break
            column = self._array(value._get_column_array(position), depth, seen)
            text = f"{renderer._render(label, depth + 1, seen)}: {column}"
            parts.append(text)
            used += len(text) + 2
        if len(parts) < count:
            parts.append(f"...+{count - len(parts)} columns")
        return f"DataFrame(shape=({rows}, {count}), {{{', '.join(parts)}}})"

    def _series(self, value: Any, depth: int, seen: set) -> str:
        name = self.renderer._render(value.name, depth + 1, seen)
        return f"Series(name={name}, dtype={value.dtype}, {self._array(value._values, depth, seen)})"

    def _array(self, array: Any, depth: int, seen: set) -> str:
        """Render the first items of a 1-D numpy array or pandas ExtensionArray as a list."""
        renderer = self.renderer
        items = _head(array, renderer.items)
        return f"[{', '.join(renderer._items(items, len(array), depth, seen))}]"


def _head(array: Any, count: int) -> list:
    """Return the first `count` items of a numpy array or ExtensionArray as Python objects."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and type(array) is numpy.ndarray:
        return array.ravel()[:count].tolist()
    return list(array[:count])


def _labels(index: Any, count: int) -> list:
    """Return the first `count` labels of an Index; a RangeIndex builds no array."""
    if type(index).__name__ == "RangeIndex":
        return list(range(index.start, index.stop, index.step)[:count])
    return _head(index._values, count)
