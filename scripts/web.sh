#!/usr/bin/env bash
# The admin console (web/): React + @medusajs/ui, built by Vite into web/dist,
# which the gatehouse binary embeds (go:embed).
#
#   scripts/web.sh build   npm ci (when node_modules is stale) + type check + vite build into web/dist
#   scripts/web.sh test    Vitest unit tests of the API-facing code (web/src/**/*.test.ts)
#   scripts/web.sh e2e     build the console and the binary, start a real Gatehouse (SQLite in a temp
#                          dir, memory store, development env, demo tenant), drive headless Chromium
#                          through the console with playwright-core; screenshots to docs/console/
#                          with UPDATE_SCREENSHOTS=1 (else to a temp dir)
#
# Needs Node.js 20+ and npm; e2e installs Debian's chromium with apt-get when
# /usr/bin/chromium is missing. WEB_E2E_SKIP_BUILD=1 reuses web/dist.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
web="$root/web"

need_node() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "web.sh: Node.js 20+ and npm are needed (apt-get install nodejs npm, or https://nodejs.org)" >&2
    exit 1
  fi
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$major" -lt 20 ]; then
    echo "web.sh: Node.js $(node --version) is too old: 20 or later is needed" >&2
    exit 1
  fi
}

# deps runs npm ci unless node_modules already matches package-lock.json.
deps() {
  need_node
  if [ ! -f "$web/node_modules/.package-lock.json" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
    echo "web.sh: npm ci"
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

build() {
  deps
  # dist/README.txt is committed (a fresh clone builds without Node); the
  # rest of dist is the previous build.
  find "$web/dist" -mindepth 1 ! -name README.txt -delete
  (cd "$web" && npx tsc --noEmit && npx vite build --logLevel warn)
  echo "web.sh: console built into web/dist ($(find "$web/dist/assets" -type f | wc -l) assets)"
}

unit() {
  deps
  (cd "$web" && npx vitest run)
}

chromium() {
  if [ -x /usr/bin/chromium ]; then
    return
  fi
  echo "web.sh: installing Debian's chromium (apt-get)"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq chromium >/dev/null 2>&1 || { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null; }
}

e2e() {
  chromium
  if [ "${WEB_E2E_SKIP_BUILD:-}" = 1 ] && [ -f "$web/dist/index.html" ]; then
    deps
  else
    build
  fi
  work="$(mktemp -d)"
  pid=""
  cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
  }
  trap cleanup EXIT
  echo "web.sh: go build (console embedded)"
  (cd "$root" && go build -o "$work/gatehouse" ./cmd/gatehouse)

  export GATEHOUSE_ENV=development
  export GATEHOUSE_DATABASE_URL="sqlite:$work/gatehouse.db"
  export GATEHOUSE_MASTER_KEY="web-e2e-master-key-$(date +%s)-0123456789abcdef"
  export GATEHOUSE_PLATFORM_KEY="web-e2e-platform-key-0123456789abcdef"
  export GATEHOUSE_DEMO_PASSWORD="correct-horse-9-demo"
  export GATEHOUSE_BASE_DOMAIN=localhost
  unset GATEHOUSE_REDIS_URL GATEHOUSE_TRUSTED_PROXIES
  "$work/gatehouse" serve --addr 127.0.0.1:0 >"$work/out.log" 2>"$work/err.log" &
  pid=$!
  addr=""
  for _ in $(seq 1 150); do
    addr="$(sed -n 's/.*msg=listening addr=\([0-9.:]*\).*/\1/p; s/.*"msg":"listening","addr":"\([0-9.:]*\)".*/\1/p' "$work/err.log" | head -n1)"
    [ -n "$addr" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/err.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$addr" ] || { echo "web.sh: server did not start" >&2; cat "$work/err.log" >&2; exit 1; }
  echo "web.sh: gatehouse on $addr"
  # Screenshots go to docs/console/ only when asked (UPDATE_SCREENSHOTS=1),
  # so CI leaves the working tree as it found it.
  shots="$work/screenshots"
  if [ "${UPDATE_SCREENSHOTS:-0}" = 1 ]; then shots="$root/docs/console"; fi
  mkdir -p "$shots"
  status=0
  (cd "$web" && GH_PORT="${addr##*:}" GH_DEMO_PASSWORD="$GATEHOUSE_DEMO_PASSWORD" GH_PLATFORM_KEY="$GATEHOUSE_PLATFORM_KEY" \
    GH_SCREENSHOTS="$shots" CHROMIUM=/usr/bin/chromium node e2e/run.mjs) || status=$?
  if [ "$status" != 0 ]; then
    echo "web.sh: e2e failed; last server log lines:" >&2
    tail -n 40 "$work/err.log" >&2
  fi
  return "$status"
}

case "${1:-}" in
  build) build ;;
  test) unit ;;
  e2e) e2e ;;
  *) echo "usage: scripts/web.sh build|test|e2e" >&2; exit 2 ;;
esac
