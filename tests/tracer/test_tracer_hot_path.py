"""Shape of the backends' hot-path bytecode that the tests in other files cannot see."""

import dis
import sys
import types
from pathlib import Path

import pytest

TRACER = Path(__file__).resolve().parents[2] / "tracer"


def _function_code(path: Path, name: str) -> types.CodeType:
    def walk(code: types.CodeType):
        yield code
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                yield from walk(const)

    module = compile(path.read_text(), str(path), "exec")
    return next(code for code in walk(module) if code.co_name == name)


@pytest.mark.parametrize("file,function", [
    ("settrace_backend.py", "local_trace"),
    ("monitoring_backend.py", "on_line"),
])
def test_hot_path_back_jumps_have_lines(file, function):
    # A signal handler (a test's timeout) raises at a backward jump. Without a line
    # number there the traceback entry has tb_lineno None, and pytest fails with an
    # INTERNALERROR while formatting the test's failure.
    if sys.version_info < (3, 11):
        pytest.skip("instruction positions exist from Python 3.11")
    code = _function_code(TRACER / file, function)

    lineless = [instruction.offset for instruction in dis.get_instructions(code)
                if instruction.opname.startswith("JUMP_BACKWARD")
                and instruction.positions.lineno is None]

    assert lineless == []
