#!/usr/bin/env bash
# Run the extension's end-to-end test in code-server: install the tools, package the
# extension, then drive VS Code in headless Chromium in each locale (en, ja).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bash "$HERE/setup.sh"
bash "$HERE/package.sh"
exec "$HERE/.tools/node24/node_modules/node/bin/node" "$HERE/run.mjs" "$@"
