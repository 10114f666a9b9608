"""Decide which functions the tracer must not read the locals of.

Before Python 3.13, `locals()`, `vars()` and `frame.f_locals` all return the same dict
per frame, and every read of `frame.f_locals` copies the frame's variables into it
again (`PyFrame_FastToLocalsWithError`). So a tracer that reads the locals of a frame
after each line adds, changes and removes keys of the dict that the program holds.
A loop over `locals()` that binds a new name then raises "dictionary changed size
during iteration", and a name deleted after `view = locals()` vanishes from `view`. Python 3.13 (PEP 667) makes `f_locals` a proxy and `locals()` a snapshot,
so reading them there changes nothing.

Checked on CPython 3.11.7 and 3.12.1: a trace function that does not read
`f_locals` leaves that dict alone, so frames that are not recorded are safe.
"""

from __future__ import annotations

import dis
import sys
from types import CodeType

from .notes import Note, note

# Builtins that return the calling frame's locals dict (`vars()` without an argument).
_LOCALS_BUILTINS = frozenset({"locals", "vars"})
# Names that reach a frame object's locals: `sys._getframe()`, `inspect.currentframe()`
# and `frame.f_locals`, however they are loaded.
_FRAME_NAMES = frozenset({"_getframe", "currentframe", "f_locals"})
_GLOBAL_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME"})

READS_CHANGE_LOCALS = sys.version_info < (3, 13)


def reads_own_locals(code: CodeType) -> bool:
    """Return True when reading the locals of `code`'s frames could change the program.

    `locals` and `vars` count only when loaded as globals: pytest's assertion rewriting
    calls `@py_builtins.locals()` in every rewritten `assert`, and uses that dict at
    once, so test functions stay recorded. The test is on names, not on what a call
    does, so `vars(obj)` or `sys._getframe(1)` count too: such a function is left
    unrecorded rather than risk a changed outcome.

    NOTE: a function whose locals dict is read by a callee (`sys._getframe(1).f_locals`
    in a helper) is not detected here, and its recorded frame refreshes that dict.
    """
    if not READS_CHANGE_LOCALS:
        return False
    names = code.co_names
    if _FRAME_NAMES.isdisjoint(names) and _LOCALS_BUILTINS.isdisjoint(names):
        return False
    for instruction in dis.get_instructions(code):
        name = instruction.argval
        if type(name) is not str:
            continue
        if name in _FRAME_NAMES:
            return True
        if name in _LOCALS_BUILTINS and instruction.opname in _GLOBAL_LOADS:
            return True
    return False


def not_recorded_note(qualname: str, path: str, line: int) -> Note:
    """Return the trace note for a function left unrecorded by `reads_own_locals`."""
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return note("trace.note.locals_not_read", qualname=qualname, path=path, line=line, version=version)
