"""A pytest-lsp client driving the real `tracefix serve` over stdio, and QuixBugs projects.

Each test gets its own server process and a scratch project made from a QuixBugs task:
`buggy.py` copied to `NAME.py` beside `test_NAME.py`. The server's cache (reports,
traces, sandboxes) goes to a temporary folder, never to the home folder.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Union

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from benchdata import QUIXBUGS  # noqa: E402
TRACEFIX = Path(sys.executable).with_name("tracefix")
CACHE = tempfile.mkdtemp(prefix="tracefix-lsp-tests-")
# Model tests load models from folders they build: no hub access, one torch thread.
SERVER_ENV = {**os.environ, "XDG_CACHE_HOME": CACHE, "QUIXBUGS_TEST_TIMEOUT": "5",
              "TRACEFIX_LOG_LEVEL": "INFO", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
              "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_HOME": os.path.join(CACHE, "hf")}


def pytest_collection_modifyitems(items):
    for item in items:
        if "quixbugs" in item.fixturenames and not QUIXBUGS.is_dir():
            item.add_marker(pytest.mark.skip(reason=f"QuixBugs tasks not found at {QUIXBUGS}"))


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[str(TRACEFIX), "serve"],
                                              server_env=SERVER_ENV))
async def client(lsp_client: LanguageClient):
    lsp_client.inlay_hint_refreshes = 0
    fix_code_action_union(lsp_client)

    @lsp_client.feature(types.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_hint_refresh(params: None) -> None:
        lsp_client.inlay_hint_refreshes += 1

    @lsp_client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def code_lens_refresh(params: None) -> None:
        return None

    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def quixbugs(tmp_path):
    """Return a function that makes a scratch project from a QuixBugs task."""

    def make(name: str, *, edit=None) -> Path:
        project = tmp_path / name
        project.mkdir()
        source = (QUIXBUGS / name / "buggy.py").read_text(encoding="utf-8")
        if edit is not None:
            source = edit(source)
        (project / f"{name}.py").write_text(source, encoding="utf-8")
        shutil.copy(QUIXBUGS / name / f"test_{name}.py", project)
        return project

    return make


def fix_code_action_union(client: LanguageClient) -> None:
    """Make the test client tell a CodeAction that carries a command from a Command.

    lsprotocol 2025.0.0 structures any item of a codeAction result that has a "command"
    key as a Command, so a CodeAction with a command (here, "Explain failure") would lose
    its kind and diagnostics. In a Command, "command" is the command's name (a string);
    in a CodeAction it is an object.
    """
    converter = client.protocol._converter

    def structure(item, _type):
        if isinstance(item.get("command"), str):
            return converter.structure(item, types.Command)
        return converter.structure(item, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], structure)
