"""Run the extension's end-to-end test in a real VS Code (code-server + headless Chromium).

`client-vscode/e2e/run.sh` installs what it needs: chromium, a Japanese font and
libkrb5-dev with apt, and Node.js 24, code-server and playwright-core with npm. It
packages the extension with `npm run package`. Then, in English and in Japanese, it
checks what is on screen for QuixBugs `gcd`: the diagnostic, the status bar, the
inlay hint, the hover, "Explain failure", the panel, the applied fix and the passing
tests. This test runs it and checks that
each step left its screenshot.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
E2E = REPO / "client-vscode" / "e2e"
BENCHMARKS = Path(os.environ.get("TRACEFIX_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))
STEPS = ["01-workbench", "02-diagnostic", "03-problems", "04-inlay-hints", "05-hover-history",
         "06-code-actions", "07-report", "08-panel", "08-panel-fix", "10-fixed"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1500),
    pytest.mark.skipif(not (BENCHMARKS / "quixbugs" / "gcd" / "buggy.py").exists(),
                       reason=f"QuixBugs gcd not found under {BENCHMARKS}; set TRACEFIX_BENCHMARKS"),
    pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed"),
]


def test_extension_in_code_server_en_and_ja():
    screenshots = E2E / "screenshots"
    shutil.rmtree(screenshots, ignore_errors=True)
    env = {**os.environ, "TRACEFIX_E2E_PYTHON": sys.executable}
    result = subprocess.run(["bash", str(E2E / "run.sh")], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=1400)
    output = result.stdout[-6000:] + "\n" + result.stderr[-6000:]
    assert result.returncode == 0, output
    for locale in ("en", "ja"):
        assert f"[e2e] {locale}: passed in" in result.stdout, output
        for step in STEPS:
            assert (screenshots / locale / f"{step}.png").stat().st_size > 0, f"{locale}/{step}.png"
    # English applies the quick fix, Japanese the panel's Apply button.
    assert (screenshots / "en" / "09-quick-fix.png").exists()
    assert (screenshots / "ja" / "09-applied-from-panel.png").exists()
