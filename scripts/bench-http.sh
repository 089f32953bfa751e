#!/usr/bin/env bash
# HTTP benchmarks with wrk against a Gatehouse started here on PostgreSQL +
# Redis (scripts/services.sh brings them up): /healthz (the ceiling), an admin
# call with a Bearer JWT, an admin call with a secret key, a store call with a
# publishable key, /decisions (forward-auth with RBAC), and login. Prints a Markdown table: req/s, p50, p99 and the
# ratio to the /healthz ceiling of the same run.
# Env: DURATION (default 10s), CONNECTIONS (default 32).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
command -v wrk >/dev/null 2>&1 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }
set -a; eval "$("$root/scripts/services.sh")"; set +a

work="$(mktemp -d)"; pid=""; dbname="gh_bench_$$"
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "drop database if exists $dbname with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
(cd "$root" && CGO_ENABLED=0 go build -trimpath -o "$work/gatehouse" ./cmd/gatehouse)
psql -q -h 127.0.0.1 -U postgres -d postgres -c "create database $dbname" >/dev/null
export GATEHOUSE_ENV=test GATEHOUSE_LOG_LEVEL=warn
export GATEHOUSE_MASTER_KEY="bench-master-key-0123456789abcdef0123456789"
export GATEHOUSE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$dbname?sslmode=disable"
export GATEHOUSE_REDIS_URL="$GATEHOUSE_TEST_REDIS_URL" GATEHOUSE_REDIS_PREFIX="ghbench$$"
pw="bench-password-123"
"$work/gatehouse" migrate >/dev/null
# The load comes from one address: lift the per-address auth budget.
"$work/gatehouse" tenant create --slug bench --name Bench --settings '{"auth_ip_per_minute":100000000,"auth_ip_burst":1000000}' >/dev/null
"$work/gatehouse" user create --tenant bench -e admin@bench.test -p "$pw" >/dev/null
sk="$("$work/gatehouse" apikey create --tenant bench --type secret --title bench | tail -n1)"
"$work/gatehouse" serve --addr 127.0.0.1:0 >"$work/out.log" 2>"$work/err.log" &
pid=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(grep -o 'addr=[0-9.:]*' "$work/err.log" | head -n1 | cut -d= -f2 || true)"
  [ -n "$addr" ] && break; sleep 0.1
done
[ -n "$addr" ] || { addr=127.0.0.1:9000; }
# the logs go to warn level, so find the port from the socket instead
if ! curl -sf "http://$addr/healthz" >/dev/null 2>&1; then
  port="$(ss -ltnp 2>/dev/null | grep "pid=$pid," | grep -o '127.0.0.1:[0-9]*' | head -n1)"
  addr="$port"
fi
base="http://$addr"
H=(-H "x-tenant-id: bench")
tok="$(curl -s -X POST "$base/auth/user/emailpass" "${H[@]}" -H 'content-type: application/json' -d "{\"email\":\"admin@bench.test\",\"password\":\"$pw\"}" | sed 's/.*"token":"\([^"]*\)".*/\1/')"
pk_json="$(curl -s -X POST "$base/admin/api-keys" "${H[@]}" -H "authorization: Bearer $tok" -H 'content-type: application/json' -d '{"title":"pk","type":"publishable"}')"
pk="$(echo "$pk_json" | sed 's/.*"token":"\(pk_[^"]*\)".*/\1/')"
cat >"$work/login.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"email":"admin@bench.test","password":"$pw"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["x-tenant-id"] = "bench"
LUA

run() { # name, extra wrk args...
  local name="$1"; shift
  local out; out="$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" 2>&1)"
  local rps p50 p99 non2xx
  rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  p50="$(echo "$out" | awk '$1=="50%" {print $2}')"
  p99="$(echo "$out" | awk '$1=="99%" {print $2}')"
  non2xx="$(echo "$out" | awk '/Non-2xx/ {print $NF}')"
  echo "$name|$rps|$p50|$p99|${non2xx:-0}"
}
results=()
results+=("$(run "/healthz (ceiling)" "$base/healthz")")
results+=("$(run "GET /admin/users/me (Bearer JWT)" -H "x-tenant-id: bench" -H "authorization: Bearer $tok" "$base/admin/users/me")")
results+=("$(run "GET /admin/sales-channels?limit=1 (secret key)" -H "x-tenant-id: bench" -H "authorization: Basic $sk" "$base/admin/sales-channels?limit=1")")
results+=("$(run "GET /store/customers/me (publishable key, no customer: 401)" -H "x-tenant-id: bench" -H "x-publishable-api-key: $pk" "$base/store/customers/me")")
results+=("$(run "GET /decisions (nginx style, Bearer JWT + RBAC on GET /admin/users)" -H "x-tenant-id: bench" -H "authorization: Bearer $tok" -H "X-Original-Method: GET" -H "X-Original-URI: /admin/users" "$base/decisions")")
results+=("$(run "POST /auth/user/emailpass (login)" -s "$work/login.lua" "$base/auth/user/emailpass")")

ceiling="$(echo "${results[0]}" | cut -d'|' -f2)"
echo "wrk -t2 -c$CONNECTIONS -d$DURATION --latency; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%d)"
echo
echo "| route | req/s | p50 | p99 | non-2xx | ratio to ceiling |"
echo "|---|---|---|---|---|---|"
for r in "${results[@]}"; do
  IFS='|' read -r name rps p50 p99 non <<<"$r"
  ratio="$(awk -v a="$rps" -v b="$ceiling" 'BEGIN { if (b > 0) printf "%.0f%%", 100*a/b }')"
  echo "| $name | $rps | $p50 | $p99 | $non | $ratio |"
done
