"""Find, per line of a code object, which locals executing that line can change.

Reading every local at every line event is what makes naive tracers slow (on 3.11
the frame's locals dict is rebuilt on each `f_locals` read). So each code object is
disassembled once, and a line event only reads the names its line can change:

- names the line binds or unbinds (`STORE_FAST`, `DELETE_FAST`, `STORE_DEREF`, ...);
- names the line loads when it also contains an operation that can mutate an object
  in place: a call (`lst.append(x)`, `heappush(heap, x)`), a subscript or attribute
  store or delete (`a[i] = x`, `obj.f = 1`), or an in-place operator (`lst += [x]`).
  These are marked "deep": the object may be the same one with new contents, so the
  recorder compares its rendering, not only its identity.

NOTE: a local changed through an alias that the line does not mention (`b = a` on one
line, `a.append(1)` on another changes `b` too) is not reported on the mutating line.
"""

from __future__ import annotations

import ast
import dis
import linecache
import sys
from types import CodeType

Candidates = tuple[tuple[str, bool], ...]  # (local name, deep) in bytecode order

_STORE_OPS = frozenset({
    "STORE_FAST", "DELETE_FAST", "STORE_DEREF", "DELETE_DEREF", "LOAD_FAST_AND_CLEAR",
})
_LOAD_OPS = frozenset({
    "LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_CLOSURE",
})
_MUTATING_OPS = frozenset({
    # calls: 3.10 names, 3.11 names, 3.12+ names
    "CALL_FUNCTION", "CALL_FUNCTION_KW", "CALL_FUNCTION_EX", "CALL_METHOD",
    "PRECALL", "CALL", "CALL_KW", "CALL_INTRINSIC_1",
    "STORE_SUBSCR", "DELETE_SUBSCR", "STORE_SLICE", "DELETE_SLICE",
    "STORE_ATTR", "DELETE_ATTR", "BEFORE_WITH", "SETUP_WITH",
})
# BINARY_OP arguments of the in-place operators (`+=` ... `^=`), NB_INPLACE_* in
# CPython 3.11+ (Include/internal/pycore_opcode_utils.h): 13 through 25.
_INPLACE_BINARY_ARGS = range(13, 26)

CO_OPTIMIZED = 0x0001
CO_GENERATOR_LIKE = 0x0020 | 0x0080 | 0x0200  # generator, coroutine, async generator


def _line_of(instruction: dis.Instruction, current: int | None) -> int | None:
    if sys.version_info >= (3, 11):
        positions = instruction.positions
        if positions is not None and positions.lineno is not None:
            return positions.lineno
        return current
    if instruction.starts_line is not None:
        return instruction.starts_line
    return current


def line_candidates(code: CodeType) -> dict[int, Candidates]:
    """Map each line of `code` to the locals its execution can change.

    Lines that can change no local are left out, so the recorder skips reading the
    frame's locals after them.
    """
    stored, loaded, mutating, inplace = _scan(code)
    result: dict[int, Candidates] = {}
    for line in sorted(set(stored) | (set(loaded) & mutating)):
        deep_names = set(loaded.get(line, ())) if line in mutating else set()
        if line in inplace:
            deep_names.update(stored.get(line, ()))
        # Names with "@" cannot be written in Python source: they are temporaries that
        # pytest's assertion rewriting adds (`@py_assert1`), not the user's variables.
        ordered = {
            name: None for name in stored.get(line, []) + sorted(deep_names) if "@" not in name
        }
        if not ordered:
            continue
        result[line] = tuple((name, name in deep_names) for name in ordered)
    return result


def line_bindings(code: CodeType) -> dict[int, list[str]]:
    """Map each line of `code` to the locals it binds or unbinds."""
    return _scan(code)[0]


def _scan(code: CodeType) -> tuple[dict[int, list[str]], dict[int, list[str]], set[int], set[int]]:
    """Return (stored, loaded, lines with mutating operations, lines with in-place ops)."""
    stored: dict[int, list[str]] = {}
    loaded: dict[int, list[str]] = {}
    mutating: set[int] = set()
    inplace: set[int] = set()
    line: int | None = None

    instructions = list(dis.get_instructions(code))
    skipped = _handler_cleanup(instructions)
    for position, instruction in enumerate(instructions):
        line = _line_of(instruction, line)
        if line is None or position in skipped:
            continue
        name = instruction.opname
        if name in _STORE_OPS:
            stored.setdefault(line, []).append(instruction.argval)
        elif name in _LOAD_OPS:
            loaded.setdefault(line, []).append(instruction.argval)
        elif name in ("STORE_FAST_STORE_FAST", "STORE_FAST_LOAD_FAST", "LOAD_FAST_LOAD_FAST"):
            # 3.13 superinstructions carry two names: (first, second).
            first, second = instruction.argval
            first_list = loaded if name.startswith("LOAD") else stored
            second_list = stored if name == "STORE_FAST_STORE_FAST" else loaded
            first_list.setdefault(line, []).append(first)
            second_list.setdefault(line, []).append(second)
        elif name in _MUTATING_OPS:
            mutating.add(line)
        elif name == "BINARY_OP" and instruction.arg in _INPLACE_BINARY_ARGS:
            inplace.add(line)
        elif name.startswith("INPLACE_"):  # 3.10
            inplace.add(line)

    return stored, loaded, mutating, inplace


def _handler_cleanup(instructions: list[dis.Instruction]) -> set[int]:
    """Positions of `name = None; del name` that end an `except ... as name:` block.

    The compiler adds them to the handler's last line; reporting `name=<unbound>`
    there would show a change the source does not contain.
    """
    skipped: set[int] = set()
    for position in range(2, len(instructions)):
        delete, store, load = instructions[position], instructions[position - 1], instructions[position - 2]
        if (delete.opname == "DELETE_FAST" and store.opname == "STORE_FAST"
                and store.argval == delete.argval
                and load.opname == "LOAD_CONST" and load.argval is None):
            skipped.update((position, position - 1))
    return skipped


def argument_names(code: CodeType) -> tuple[str, ...]:
    """Return the parameter names of `code`, including `*args` and `**kwargs`."""
    count = code.co_argcount + code.co_kwonlyargcount
    count += bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)  # VARARGS, VARKEYWORDS
    return code.co_varnames[:count]


# Statement maps by file name, with the key of the source they were built from.
_STATEMENT_MAPS: dict[str, tuple[tuple, dict[int, int]]] = {}


def continuation_lines(filename: str) -> dict[int, int]:
    """Map each continuation line of a multi-line statement in `filename` to its first line.

    CPython reports a line event each time execution moves to another physical line,
    so `total = (a +\\n b)` runs as line 1, line 2, then line 1 again for the store.
    The recorder treats those events as one execution of the statement. The source is
    read through `linecache`, which decodes files by their coding cookie and returns
    the text registered for generated code. An empty map is returned when the source
    is missing or does not parse.

    A multi-line `except` header counts as one statement too.

    NOTE: the backends merge consecutive events of one statement, so a loop whose body
    is a single multi-line statement and whose header has no line event of its own
    (`while True:` on 3.11+) shows all its iterations as one hit.
    """
    try:
        lines = linecache.getlines(filename)
    except Exception:  # a test may have replaced os.stat or open with a mock
        return {}
    key: tuple = (len(lines), hash(tuple(lines)))
    cached = _STATEMENT_MAPS.get(filename)
    if cached is not None and cached[0] == key:
        return cached[1]
    mapping = _continuations("".join(lines)) if lines else {}
    _STATEMENT_MAPS[filename] = (key, mapping)
    return mapping


def _continuations(source: str) -> dict[int, int]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    spans: list[tuple[int, int]] = []
    starts: dict[int, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler):
            # `except (A,\n B) as e:` reports its first line, the next, then the first
            # again. It is not an ast.stmt, but it runs as one step.
            first = node.lineno
            last = max(first, _end(node.type)) if node.type is not None else first
        elif isinstance(node, ast.stmt):
            first, last = _header_span(node)
        else:
            continue
        starts[first] = starts.get(first, 0) + 1
        if last > first:
            spans.append((first, last))
    mapping: dict[int, int] = {}
    for first, last in spans:
        # A line that also starts another statement (`for x in y: total = (t +`) is
        # ambiguous, so such statements keep one event per physical line.
        if starts[first] > 1:
            continue
        for line in range(first + 1, last + 1):
            if line not in starts:
                mapping[line] = first
    return mapping


def _header_span(node: ast.stmt) -> tuple[int, int]:
    """Return the first and last line of the part of `node` that runs as one step.

    That is the whole statement for a simple one, and the header (decorators and
    signature, condition, loop target and iterable, context managers) for a
    compound one, whose body consists of statements of its own.
    """
    first = node.lineno
    parts: list[ast.AST] = []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        first = min([first] + [d.lineno for d in node.decorator_list])
        parts = list(node.decorator_list)
        if isinstance(node, ast.ClassDef):
            parts += node.bases + [k.value for k in node.keywords]
        else:
            parts += [node.args] + ([node.returns] if node.returns else [])
        # The `def` line itself, in case the signature spans no expression.
        return first, max([node.lineno] + [_end(p) for p in parts])
    if isinstance(node, (ast.If, ast.While)):
        parts = [node.test]
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        parts = [node.target, node.iter]
    elif isinstance(node, (ast.With, ast.AsyncWith)):
        parts = [item.context_expr for item in node.items]
        parts += [item.optional_vars for item in node.items if item.optional_vars]
    elif isinstance(node, ast.Try) or type(node).__name__ in ("TryStar", "Match"):
        return first, first
    else:
        return first, node.end_lineno or first
    return first, max([first] + [_end(p) for p in parts])


def _end(node: ast.AST) -> int:
    # `ast.arguments` has no position of its own, so its parameters are searched.
    return max((getattr(n, "end_lineno", None) or 0 for n in ast.walk(node)), default=0)
