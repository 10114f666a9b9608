"""Fixtures for the tracer tests."""

from __future__ import annotations

import pytest

from tracer_helpers import TRACER_DIR


@pytest.fixture(scope="session")
def tracer_path(tmp_path_factory) -> str:
    """A folder that makes `import tracefix.tracer` work in any interpreter."""
    folder = tmp_path_factory.mktemp("path")
    (folder / "tracefix").mkdir()
    (folder / "tracefix" / "tracer").symlink_to(TRACER_DIR)
    return str(folder)
