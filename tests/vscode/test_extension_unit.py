"""Run the VS Code extension's unit tests (`npm ci && npm test` in client-vscode/)."""
import shutil
import subprocess
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "client-vscode"


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed, so the extension's unit tests cannot run")
def test_extension_unit_tests():
    for command in (["npm", "ci", "--no-audit", "--no-fund"], ["npm", "test"]):
        result = subprocess.run(command, cwd=CLIENT, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
