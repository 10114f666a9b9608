#!/usr/bin/env bash
# Package the extension as users do (`npm run package`, the same .vsix that README.md
# has them install) into client-vscode/e2e/.tools/tracefix.vsix, and the stand-in
# Japanese language pack (ja-pack/) into .tools/ja-locale.vsix. No tracked file changes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLIENT="$(dirname "$HERE")"
TOOLS="$HERE/.tools"
VSIX="$TOOLS/tracefix.vsix"
JA_PACK="$TOOLS/ja-locale.vsix"

log() { printf '[e2e package] %s\n' "$*"; }
fail() { printf '[e2e package] error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$TOOLS"
cd "$CLIENT"
if [ -x node_modules/.bin/vsce ] && [ -x node_modules/.bin/esbuild ]; then
  log "npm: dependencies already installed in $CLIENT/node_modules"
else
  log "npm: npm ci in $CLIENT"
  npm ci --no-audit --no-fund || fail "npm ci failed in $CLIENT"
fi
VSCE="$CLIENT/node_modules/.bin/vsce"

log "npm run package -> $VSIX"
npm run package -- --out "$VSIX" || fail "npm run package failed in $CLIENT"
[ -s "$VSIX" ] || fail "npm run package wrote no $VSIX"

# Microsoft's Japanese Language Pack cannot be downloaded offline. This stand-in only
# declares the ja display language, so `code-server --locale ja` reports ja to extensions.
log "vsce package ja-pack -> $JA_PACK"
rm -rf "$TOOLS/ja-pack-stage"
cp -r "$HERE/ja-pack" "$TOOLS/ja-pack-stage"
(cd "$TOOLS/ja-pack-stage" && "$VSCE" package --no-dependencies --allow-missing-repository \
  --skip-license --out "$JA_PACK") || fail "vsce package of the ja locale stand-in failed"
log "packaged $(du -h "$VSIX" | cut -f1) $VSIX and $(du -h "$JA_PACK" | cut -f1) $JA_PACK"
