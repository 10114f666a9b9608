#!/usr/bin/env bash
# Build the extension and package it as client-vscode/e2e/.tools/tracefix.vsix.
# The package is made from a staging copy (manifest, translations, bundle), so the
# e2e tools and the sources never go into it and no tracked file changes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLIENT="$(dirname "$HERE")"
TOOLS="$HERE/.tools"
VSIX="$TOOLS/tracefix.vsix"
STAGE="$TOOLS/stage"

log() { printf '[e2e package] %s\n' "$*"; }
fail() { printf '[e2e package] error: %s\n' "$*" >&2; exit 1; }

VSCE="$TOOLS/node_modules/.bin/vsce"
[ -x "$VSCE" ] || fail "vsce not found at $VSCE; run client-vscode/e2e/setup.sh first"

cd "$CLIENT"
if [ -x node_modules/.bin/esbuild ]; then
  log "npm: dependencies already installed in $CLIENT/node_modules"
else
  log "npm: npm ci in $CLIENT"
  npm ci --no-audit --no-fund || fail "npm ci failed in $CLIENT"
fi
log "build: npm run build"
npm run build || fail "npm run build failed in $CLIENT"
[ -f out/extension.js ] || fail "the build wrote no out/extension.js"

log "stage: $STAGE"
rm -rf "$STAGE"
mkdir -p "$STAGE"
cp package.json "$STAGE/"
cp package.nls*.json "$STAGE/" 2>/dev/null || true
[ -d l10n ] && cp -r l10n "$STAGE/"
cp -r out "$STAGE/"
cp -r media "$STAGE/"  # the explanation panel's script and styles
find "$STAGE/out" -name '*.map' -delete
# The bundle includes vscode-languageclient, so the package needs no node_modules.
[ -f ../LICENSE ] && cp ../LICENSE "$STAGE/"

log "vsce package --no-dependencies -> $VSIX"
(cd "$STAGE" && "$VSCE" package --no-dependencies --allow-missing-repository --skip-license \
  --out "$VSIX") || fail "vsce package failed"
log "packaged $(du -h "$VSIX" | cut -f1) $VSIX"

# A stand-in for Microsoft's Japanese Language Pack (not downloadable offline): it only
# declares the ja display language, so `code-server --locale ja` runs VS Code in ja.
JA_PACK="$TOOLS/ja-locale.vsix"
log "vsce package ja-pack -> $JA_PACK"
rm -rf "$TOOLS/ja-pack-stage"
cp -r "$HERE/ja-pack" "$TOOLS/ja-pack-stage"
(cd "$TOOLS/ja-pack-stage" && "$VSCE" package --no-dependencies --allow-missing-repository \
  --skip-license --out "$JA_PACK") || fail "vsce package of the ja locale stand-in failed"
