#!/usr/bin/env bash
# Run ../shared/conformance (the official @medusajs/js-sdk suite) against a
# Gatehouse it starts: fresh database (PostgreSQL when GATEHOUSE_TEST_POSTGRES_URL
# is set, else SQLite), Redis when GATEHOUSE_TEST_REDIS_URL is set, a fresh
# tenant and admin made with the CLI. Runs once with the x-tenant-id header
# and once through the /t/{slug} path prefix.
# Env: CONFORMANCE_SKIP (comma-separated groups to skip; default: none).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
suite="${CONFORMANCE_DIR:-$root/../shared/conformance}"
[ -x "$suite/run.sh" ] || { echo "conformance: $suite/run.sh not found" >&2; exit 1; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "conformance: installing Node.js and npm" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2
  else sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2; fi
fi

work="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  if [ -n "${dbname:-}" ]; then psql -q -h 127.0.0.1 -U postgres -d postgres -c "drop database if exists $dbname with (force)" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/gatehouse" "$root/cmd/gatehouse"

export GATEHOUSE_ENV=test
export GATEHOUSE_MASTER_KEY="conformance-master-key-$(date +%s)-0123456789abcdef"
export GATEHOUSE_PLATFORM_KEY="conformance-platform-key-0123456789"
if [ -n "${GATEHOUSE_TEST_POSTGRES_URL:-}" ]; then
  dbname="gh_conf_$$_$(date +%s)"
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "create database $dbname" >/dev/null
  export GATEHOUSE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$dbname?sslmode=disable"
else
  export GATEHOUSE_DATABASE_URL="sqlite:$work/gatehouse.db"
fi
if [ -n "${GATEHOUSE_TEST_REDIS_URL:-}" ]; then
  export GATEHOUSE_REDIS_URL="$GATEHOUSE_TEST_REDIS_URL"
  export GATEHOUSE_REDIS_PREFIX="ghconf$$"
fi
db="${GATEHOUSE_DATABASE_URL%%:*}"
echo "conformance: database=$db redis=${GATEHOUSE_REDIS_URL:-none}"

slug="conf$$"
email="admin@$slug.test"
password="conformance-$(date +%s)-Pw!"
"$work/gatehouse" migrate >/dev/null
"$work/gatehouse" tenant create --slug "$slug" --name "Conformance" >/dev/null
"$work/gatehouse" user create --tenant "$slug" -e "$email" -p "$password" >/dev/null

"$work/gatehouse" serve --addr 127.0.0.1:0 >"$work/out.log" 2>"$work/err.log" &
pid=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(sed -n 's/.*msg=listening addr=\([0-9.:]*\).*/\1/p; s/.*"msg":"listening","addr":"\([0-9.:]*\)".*/\1/p' "$work/err.log" | head -n1)"
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "conformance: server did not start" >&2; cat "$work/err.log" >&2; exit 1; }

export ADMIN_EMAIL="$email" ADMIN_PASSWORD="$password" SKIP="${CONFORMANCE_SKIP-}"
status=0
echo "conformance: header mode (x-tenant-id: $slug) against http://$addr"
TENANT="$slug" "$suite/run.sh" "http://$addr" || status=1
echo "conformance: path-prefix mode against http://$addr/t/$slug"
TENANT="" "$suite/run.sh" "http://$addr/t/$slug" || status=1
if [ "$status" != 0 ]; then
  echo "conformance: FAILED; server log:" >&2
  tail -n 50 "$work/err.log" >&2
fi
exit "$status"
