"""Render any object to a bounded string without running user-defined code.

The tracer shows the values of the user's locals, and those objects may define
`__repr__`, `__eq__`, `__getattribute__`, properties or descriptors that have side
effects, raise, or take long. So this module never calls a method found on a user
type. It dispatches on the exact type (`type(x) is int`, never `isinstance`, because a
subclass can override everything), renders built-in types itself, reads user objects
through the C-level `__dict__` and slot descriptors of `object` and `type`, and formats
a few well-known library types (numpy arrays, pandas frames, datetime, Decimal,
Fraction, paths, enums) with their own library code, which is not user code.

Rendering never raises: any failure falls back to `<TypeName object>`.
"""

from __future__ import annotations

import collections
import datetime
import decimal
import enum
import fractions
import math
import pathlib
import types
from typing import Any, Callable

from .foreign import reraise_foreign
from .pandas_values import pandas_handler

# Exact types whose instances can be kept as they are and rendered after recording,
# because nothing can change them in place, and whose `==` is the built-in one, so
# comparing two of the same type runs no user code. `tuple` can be kept raw only
# when its items can, see `is_raw`.
RAW_SCALARS = frozenset({int, float, str, bool, type(None), bytes, complex})
# NOTE: `type(x) in RAW_SCALARS` and the per-type handler caches hash the class, so a
# metaclass that defines `__hash__` (or `__eq__`) has it called by the tracer.

MAX_DEPTH = 4  # nesting levels rendered before a container shows as `[...]`
RAW_TUPLE_ITEMS = 8  # longer tuples are rendered at once instead of kept raw
_MAX_INT_BITS = 256  # larger ints are shown by digit count, not in full
# Ints at or beyond this magnitude are rendered at once instead of kept raw.
RAW_INT_BOUND = 1 << _MAX_INT_BITS
# Longer str and bytes are rendered (cut) at once instead of kept raw. Otherwise a loop
# that grows a string keeps one copy per hit until loop compression drops the hit, so
# memory grows with the square of the loop's length.
RAW_TEXT_MAX = 1024

# The descriptors of `type` and `object` themselves. Calling them reads the C-level
# slot directly, so a metaclass property named `__qualname__` or a class attribute
# named `__dict__` cannot run.
_type_qualname = type.__dict__["__qualname__"].__get__
_type_module = type.__dict__["__module__"].__get__
_type_mro = type.__dict__["__mro__"].__get__
_type_dict = type.__dict__["__dict__"].__get__
_type_flags = type.__dict__["__flags__"].__get__
_exc_args = BaseException.__dict__["args"].__get__

_GetSetDescriptor = types.GetSetDescriptorType
_MemberDescriptor = types.MemberDescriptorType

_NUMPY_SCALARS = frozenset({
    "bool_", "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "float16", "float32", "float64", "longdouble", "complex64", "complex128",
    "intc", "uintc", "longlong", "ulonglong", "str_", "bytes_",
})


class Rendered:
    """A value rendered while recording, as opposed to a raw object kept for later."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class Snapshot:
    """The state of an exact list or deque that decides its rendering, copied cheaply.

    Valid only when every item in `prefix` (the first `container_items` items) is a
    RAW_SCALARS instance: those never change, so `length` and the identities of the
    prefix items fix the text, and it can be rendered later (`Renderer.render_snapshot`).
    """

    __slots__ = ("cls", "length", "prefix", "text")

    def __init__(self, cls: type, length: int, prefix: list) -> None:
        self.cls = cls
        self.length = length
        self.prefix = prefix
        self.text: str | None = None


def type_name(cls: type) -> str:
    """Return `cls.__qualname__` read through `type`'s own descriptor."""
    try:
        return _type_qualname(cls)
    except Exception as exc:
        reraise_foreign(exc)
        return "?"


def qualified_type_name(cls: type) -> str:
    """Return `module.QualName`, or just the name for builtins."""
    name = type_name(cls)
    try:
        module = _type_module(cls)
    except Exception as exc:
        reraise_foreign(exc)
        return name
    if module in ("builtins", None) or not isinstance(module, str):
        return name
    return f"{module}.{name}"


def is_raw(value: Any) -> bool:
    """Return True when `value` can be kept as is and rendered after recording.

    That is a RAW_SCALARS instance of bounded size, or a short tuple of those.
    """
    cls = type(value)
    if cls in RAW_SCALARS:
        return _is_small(value, cls)
    if cls is tuple and len(value) <= RAW_TUPLE_ITEMS:
        for item in value:
            item_cls = type(item)
            if item_cls not in RAW_SCALARS or not _is_small(item, item_cls):
                return False
        return True
    return False


def _is_small(value: Any, cls: type) -> bool:
    if cls is str or cls is bytes:
        return len(value) <= RAW_TEXT_MAX
    if cls is int:
        return -RAW_INT_BOUND < value < RAW_INT_BOUND
    return True


def truncate(text: str, width: int) -> str:
    """Cut `text` to `width` characters, with a marker giving the number dropped."""
    if len(text) <= width:
        return text
    return f"{text[:width]}…(+{len(text) - width} chars)"


class Renderer:
    """Bounded, side-effect-free rendering with per-type handler caching."""

    def __init__(self, value_width: int = 120, container_items: int = 20) -> None:
        self.width = value_width
        self.items = container_items
        self._handlers: dict[type, Callable[[Any, int, set[int]], str]] = {}
        self._builtin_handlers: dict[type, Callable[[Any, int, set[int]], str]] = {
            int: self._int,
            bool: _plain_repr,
            float: _plain_repr,
            complex: _plain_repr,
            type(None): _plain_repr,
            str: self._str,
            bytes: self._bytes,
            bytearray: self._bytes,
            list: self._list,
            tuple: self._tuple,
            dict: self._dict,
            set: self._set,
            frozenset: self._set,
            collections.deque: self._deque,
            collections.OrderedDict: self._dict,
            collections.defaultdict: self._dict,
            collections.Counter: self._dict,
            range: _plain_repr,
            slice: _plain_repr,
            datetime.datetime: _plain_repr,
            datetime.date: _plain_repr,
            datetime.time: _plain_repr,
            datetime.timedelta: _plain_repr,
            datetime.timezone: _plain_repr,
            decimal.Decimal: _plain_repr,
            fractions.Fraction: _plain_repr,
            pathlib.PurePosixPath: _plain_repr,
            pathlib.PureWindowsPath: _plain_repr,
            pathlib.PosixPath: _plain_repr,
            pathlib.WindowsPath: _plain_repr,
            type: self._class,
            types.FunctionType: self._function,
            types.BuiltinFunctionType: self._function,
            types.MethodType: self._function,
            types.ModuleType: self._module,
            types.GeneratorType: self._generator,
            types.CoroutineType: self._generator,
        }

    def render(self, value: Any) -> str:
        """Render `value` to at most `value_width` characters (plus a truncation marker)."""
        try:
            text = self._render(value, 0, set())
        except Exception as exc:  # a rendering bug must never reach the user's test
            reraise_foreign(exc)
            return f"<{_safe_type_name(value)} object>"
        if type(value) in (str, bytes, bytearray):
            return text  # already cut by its handler, with an exact count
        return truncate(text, self.width)

    def render_snapshot(self, snapshot: Snapshot) -> str:
        """Render a Snapshot exactly as `render` rendered the container it was taken of."""
        if snapshot.text is None:
            opening, closing = ("[", "]") if snapshot.cls is list else ("deque([", "])")
            parts = self._items(snapshot.prefix, snapshot.length, 0, set())
            snapshot.text = truncate(f"{opening}{', '.join(parts)}{closing}", self.width)
        return snapshot.text

    def render_exception(self, exc: BaseException) -> str:
        """Render as `Type: message` from `args`, without calling the exception's `__str__`."""
        try:
            name = type_name(type(exc))
            args = _exc_args(exc)
            if type(args) is tuple and len(args) == 1 and type(args[0]) is str:
                return truncate(f"{name}: {args[0]}", self.width)
            if type(args) is tuple and not args:
                return name
            if type(args) is tuple and len(args) == 1:
                # As Python shows it: `SystemExit: 3`, not `SystemExit: (3,)`.
                return truncate(f"{name}: {self._render(args[0], 1, set())}", self.width)
            return truncate(f"{name}: {self._render(args, 1, set())}", self.width)
        except Exception as exc:
            reraise_foreign(exc)
            return f"<{_safe_type_name(exc)}>"

    # -- dispatch ---------------------------------------------------------------

    def _render(self, value: Any, depth: int, seen: set[int]) -> str:
        cls = type(value)
        handler = self._handlers.get(cls)
        if handler is None:
            handler = self._handler_for(cls)
            self._handlers[cls] = handler
        return handler(value, depth, seen)

    def _handler_for(self, cls: type) -> Callable[[Any, int, set[int]], str]:
        """Choose once per type how to render it; the choice is cached."""
        handler = self._builtin_handlers.get(cls)
        if handler is not None:
            return handler
        try:
            mro = _type_mro(cls)
        except Exception as exc:
            reraise_foreign(exc)
            return _opaque
        # Compare classes with `is`: `in` would call a metaclass `__eq__`.
        for klass in mro:
            if klass is enum.Enum:
                return self._enum
            if klass is BaseException:
                return self._exception
        module = _type_module(cls)
        if isinstance(module, str) and (module == "numpy" or module.startswith("numpy.")):
            name = type_name(cls)
            if name == "ndarray" and module == "numpy":
                return self._ndarray
            if name in _NUMPY_SCALARS:
                return self._numpy_scalar
        if isinstance(module, str) and (module == "pandas" or module.startswith("pandas.")):
            handler = pandas_handler(self, cls)
            if handler is not None:
                return handler
        if _type_flags(cls) & _HEAPTYPE:
            return self._object
        # A C type from a library or the standard library that has no handler here:
        # its repr is C code, but an unknown extension might still call back into
        # Python, so it is shown by name only.
        return _opaque

    # -- scalars ----------------------------------------------------------------

    def _int(self, value: int, depth: int, seen: set[int]) -> str:
        # Very large ints are slow to convert, and Python 3.11+ refuses more than
        # 4300 digits (sys.set_int_max_str_digits), so give their size instead.
        if -(1 << _MAX_INT_BITS) < value < (1 << _MAX_INT_BITS):
            return repr(value)
        digits = int(value.bit_length() * math.log10(2)) + 1
        return f"<int with about {digits} digits>"

    def _str(self, value: str, depth: int, seen: set[int]) -> str:
        if len(value) <= self.width:
            return repr(value)
        return f"{value[:self.width]!r}…(+{len(value) - self.width} chars)"

    def _bytes(self, value: bytes | bytearray, depth: int, seen: set[int]) -> str:
        if len(value) <= self.width:
            return repr(value)
        head = repr(bytes(value[:self.width]))
        if type(value) is bytearray:
            head = f"bytearray({head})"
        return f"{head}…(+{len(value) - self.width} bytes)"

    # -- containers -------------------------------------------------------------

    def _items(self, iterable: Any, total: int, depth: int, seen: set[int]) -> list[str]:
        """Render up to `container_items` items, stopping early once past `width`."""
        parts: list[str] = []
        used = 0
        for item in iterable:
            if len(parts) >= self.items or used > self.width:
                break
            text = self._render(item, depth + 1, seen)
            parts.append(text)
            used += len(text) + 2
        if len(parts) < total:
            parts.append(f"...+{total - len(parts)}")
        return parts

    def _sequence(self, value: Any, depth: int, seen: set[int], opening: str, closing: str) -> str:
        key = id(value)
        if key in seen:
            return "..."
        if depth >= MAX_DEPTH:
            return f"{opening}...{closing}" if value else f"{opening}{closing}"
        seen.add(key)
        try:
            parts = self._items(value, len(value), depth, seen)
        finally:
            seen.discard(key)
        return f"{opening}{', '.join(parts)}{closing}"

    def _list(self, value: list, depth: int, seen: set[int]) -> str:
        return self._sequence(value, depth, seen, "[", "]")

    def _tuple(self, value: tuple, depth: int, seen: set[int]) -> str:
        if len(value) == 1:
            return f"({self._render(value[0], depth + 1, seen)},)"
        return self._sequence(value, depth, seen, "(", ")")

    def _deque(self, value: collections.deque, depth: int, seen: set[int]) -> str:
        return self._sequence(value, depth, seen, "deque([", "])")

    def _set(self, value: set | frozenset, depth: int, seen: set[int]) -> str:
        if not value:
            return "set()" if type(value) is set else "frozenset()"
        if type(value) is frozenset:
            return self._sequence(value, depth, seen, "frozenset({", "})")
        return self._sequence(value, depth, seen, "{", "}")

    def _dict(self, value: dict, depth: int, seen: set[int]) -> str:
        prefix = "" if type(value) is dict else type_name(type(value))
        key = id(value)
        if key in seen:
            return "{...}"
        if depth >= MAX_DEPTH:
            return f"{prefix}{{...}}" if value else f"{prefix}{{}}"
        seen.add(key)
        try:
            pairs = (
                f"{self._render(k, depth + 1, seen)}: {self._render(v, depth + 1, seen)}"
                for k, v in dict.items(value)
            )
            parts = self._items_of_rendered(pairs, len(value))
        finally:
            seen.discard(key)
        body = "{" + ", ".join(parts) + "}"
        return f"{prefix}({body})" if prefix else body

    def _items_of_rendered(self, rendered: Any, total: int) -> list[str]:
        parts: list[str] = []
        used = 0
        for text in rendered:
            if len(parts) >= self.items or used > self.width:
                break
            parts.append(text)
            used += len(text) + 2
        if len(parts) < total:
            parts.append(f"...+{total - len(parts)}")
        return parts

    # -- user objects -----------------------------------------------------------

    def _object(self, value: Any, depth: int, seen: set[int]) -> str:
        """Render `Class(field=value, ...)` from a shallow read of `__dict__` and slots."""
        cls = type(value)
        name = type_name(cls)
        key = id(value)
        if key in seen:
            return f"{name}(...)"
        if depth >= MAX_DEPTH:
            return f"{name}(...)"
        fields = _instance_fields(value, cls)
        if not fields:
            return f"<{name} object>" if fields is None else f"{name}()"
        seen.add(key)
        try:
            pairs = (
                f"{field}={self._render(field_value, depth + 1, seen)}"
                for field, field_value in fields
            )
            parts = self._items_of_rendered(pairs, len(fields))
        finally:
            seen.discard(key)
        return f"{name}({', '.join(parts)})"

    def _enum(self, value: Any, depth: int, seen: set[int]) -> str:
        fields = dict(_instance_fields(value, type(value)) or ())
        member = fields.get("_name_")
        if type(member) is str:
            return f"{type_name(type(value))}.{member}"
        return self._object(value, depth, seen)

    def _exception(self, value: BaseException, depth: int, seen: set[int]) -> str:
        try:
            args = _exc_args(value)
        except Exception as exc:
            reraise_foreign(exc)
            return f"<{type_name(type(value))} object>"
        inner = ", ".join(self._render(a, depth + 1, seen) for a in args[: self.items])
        return f"{type_name(type(value))}({inner})"

    # -- library types ----------------------------------------------------------

    def _ndarray(self, value: Any, depth: int, seen: set[int]) -> str:
        # numpy's own C accessors; `flat[:n]` copies at most n items, so a huge
        # array costs no more than a small one.
        shape = tuple(value.shape)
        dtype = str(value.dtype)
        head = value.flat[: self.items].tolist() if value.size else []
        inner = self._items(head, int(value.size), depth, seen)
        return f"ndarray(shape={shape}, dtype={dtype}, [{', '.join(inner)}])"

    def _numpy_scalar(self, value: Any, depth: int, seen: set[int]) -> str:
        return f"{type_name(type(value))}({self._render(value.item(), depth + 1, seen)})"

    # -- callables and other built-in objects ------------------------------------

    def _class(self, value: type, depth: int, seen: set[int]) -> str:
        return f"<class {qualified_type_name(value)}>"

    def _function(self, value: Any, depth: int, seen: set[int]) -> str:
        # A bound method forwards attribute reads to `__func__`, which may be any
        # callable object, so only a plain function's name is read.
        if type(value) is types.MethodType:
            value = value.__func__
            if type(value) is not types.FunctionType:
                return "<bound method>"
        return f"<function {value.__qualname__}>"

    def _module(self, value: types.ModuleType, depth: int, seen: set[int]) -> str:
        name = object.__getattribute__(value, "__dict__").get("__name__")
        return f"<module {name}>" if type(name) is str else "<module>"

    def _generator(self, value: Any, depth: int, seen: set[int]) -> str:
        return f"<{type_name(type(value))} {value.__qualname__}>"


_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: set on classes defined by a class statement


def _plain_repr(value: Any, depth: int, seen: set[int]) -> str:
    return repr(value)


def _opaque(value: Any, depth: int, seen: set[int]) -> str:
    return f"<{type_name(type(value))} object>"


def _safe_type_name(value: Any) -> str:
    try:
        return type_name(type(value))
    except Exception as exc:
        reraise_foreign(exc)
        return "?"


def _instance_fields(value: Any, cls: type) -> list[tuple[str, Any]] | None:
    """Read instance attributes without running user code.

    Returns None when the object has neither a usable `__dict__` nor slots. Only
    C-level descriptors are called: the `__dict__` getset of a heap type and the
    member descriptors that `__slots__` creates. A class that replaces either with
    a Python object (e.g. a property named `__dict__`) gets no fields read.
    """
    fields: list[tuple[str, Any]] = []
    found = False
    try:
        mro = _type_mro(cls)
    except Exception as exc:
        reraise_foreign(exc)
        return None
    dict_read = False
    for klass in mro:
        namespace = _type_dict(klass)
        if not dict_read and "__dict__" in namespace:
            descriptor = namespace["__dict__"]
            dict_read = True
            if type(descriptor) is _GetSetDescriptor:
                try:
                    instance_dict = descriptor.__get__(value, cls)
                except Exception as exc:
                    reraise_foreign(exc)
                    instance_dict = None
                if type(instance_dict) is dict:
                    found = True
                    for name, field_value in dict.items(instance_dict):
                        if type(name) is str:
                            fields.append((name, field_value))
        slots = namespace.get("__slots__")
        if slots is None:
            continue
        if type(slots) is str:
            slots = (slots,)
        if type(slots) not in (tuple, list):
            continue
        for slot in slots:
            if type(slot) is not str or slot in ("__dict__", "__weakref__"):
                continue
            descriptor = namespace.get(_mangle(klass, slot))
            if type(descriptor) is not _MemberDescriptor:
                continue
            found = True
            try:
                fields.append((slot, descriptor.__get__(value, cls)))
            except AttributeError:
                pass  # an unset slot
    return fields if found else None


def _mangle(klass: type, name: str) -> str:
    """Apply private-name mangling, which `__slots__` entries like `__x` undergo."""
    if name.startswith("__") and not name.endswith("__"):
        owner = type_name(klass).rsplit(".", 1)[-1].lstrip("_")
        if owner:
            return f"_{owner}{name}"
    return name
