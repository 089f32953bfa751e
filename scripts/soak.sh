#!/usr/bin/env bash
# Soak (not in CI; `make soak`): one Gatehouse on PostgreSQL + Redis under a
# steady mixed load at half its measured capacity for SOAK_SECONDS (600):
# Bearer calls, secret-key calls and /decisions, rotating over TENANTS (20)
# seeded tenants. Reports the request rate, latency, errors (non-2xx and
# socket errors) and the server's RSS (VmRSS) at the start and the end; the
# results replace the section between <!-- soak:begin --> and
# <!-- soak:end --> of docs/benchmarks.md (WRITE_DOCS=0 prints them only).
#
# Env: SOAK_SECONDS (600), CONNECTIONS (32), TENANTS (20), CAPACITY_PCT (50).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
SOAK_SECONDS="${SOAK_SECONDS:-600}"
CONNECTIONS="${CONNECTIONS:-32}"
TENANTS="${TENANTS:-20}"
CAPACITY_PCT="${CAPACITY_PCT:-50}"
WRITE_DOCS="${WRITE_DOCS:-1}"
command -v wrk >/dev/null 2>&1 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }
set -a; eval "$("$root/scripts/services.sh")"; set +a

work="$(mktemp -d)"; pid=""; db="gh_soak_$$"
log() { echo "soak: $*" >&2; }
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT


(cd "$root" && go build -o "$work/gatehouse" ./cmd/gatehouse)
psql -q -h 127.0.0.1 -U postgres -d postgres -c "create database $db" >/dev/null
pw="correct-horse-9"
export GATEHOUSE_ENV=test GATEHOUSE_LOG_LEVEL=warn
export GATEHOUSE_MASTER_KEY="soak-master-key-0123456789abcdef0123456789"
export GATEHOUSE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
export GATEHOUSE_REDIS_URL="$GATEHOUSE_TEST_REDIS_URL" GATEHOUSE_REDIS_PREFIX="ghsoak$$"
"$work/gatehouse" migrate >/dev/null
"$work/gatehouse" seed --tenants "$TENANTS" --users-per-tenant 10 --policies 5 --prefix soak --password "$pw" \
  --settings '{"auth_ip_per_minute":100000000,"auth_ip_burst":1000000}' | tail -n 2 >&2
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
"$work/gatehouse" serve --addr "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do curl -sf "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$base/healthz" >/dev/null || { cat "$work/serve.log" >&2; exit 1; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }

# Credentials per tenant: a Bearer token and a secret key.
: >"$work/creds"
for i in $(seq 0 $(( TENANTS - 1 ))); do
  slug="$(printf 'soak-%05d' "$i")"
  tok="$(curl -s -X POST "$base/t/$slug/auth/user/emailpass" -H 'content-type: application/json' \
    -d "{\"email\":\"user00000@$slug.test\",\"password\":\"$pw\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')"
  sk="$(curl -s -X POST "$base/t/$slug/admin/api-keys" -H "authorization: Bearer $tok" -H 'content-type: application/json' \
    -d '{"title":"soak","type":"secret"}' | sed -n 's/.*"token":"\(sk_[^"]*\)".*/\1/p')"
  [ -n "$tok" ] && [ -n "$sk" ] || { log "credentials of $slug failed"; exit 1; }
  echo "$slug $tok $sk" >>"$work/creds"
done

cat >"$work/mix.lua" <<'LUA'
-- Mixed load over the tenants of CREDS ("slug token secret" lines): Bearer
-- call, secret-key call, /decisions in turn. DELAY_MS paces each connection.
local creds = {}
for line in io.lines(os.getenv("CREDS")) do
  local slug, tok, sk = line:match("^(%S+) (%S+) (%S+)$")
  if slug then creds[#creds + 1] = { slug, tok, sk } end
end
local pace = tonumber(os.getenv("DELAY_MS") or "0")
local i = 0
request = function()
  i = i + 1
  local c = creds[(i % #creds) + 1]
  local kind = i % 3
  if kind == 0 then
    return wrk.format("GET", "/t/" .. c[1] .. "/admin/users/me", { ["authorization"] = "Bearer " .. c[2] })
  elseif kind == 1 then
    return wrk.format("GET", "/t/" .. c[1] .. "/admin/sales-channels?limit=1", { ["authorization"] = "Basic " .. c[3] })
  end
  return wrk.format("GET", "/decisions", { ["x-tenant-id"] = c[1], ["authorization"] = "Bearer " .. c[2],
    ["X-Original-Method"] = "GET", ["X-Original-URI"] = "/admin/users" })
end
if pace > 0 then
  delay = function() return pace end
end
LUA

run_wrk() { # seconds, delay-ms
  CREDS="$work/creds" DELAY_MS="$2" wrk -t2 -c"$CONNECTIONS" -d"${1}s" --latency --timeout 10s -s "$work/mix.lua" "$base" 2>&1
}

log "measuring capacity (10 s, unpaced)"
cap_out="$(run_wrk 10 0)"
capacity="$(echo "$cap_out" | awk '/Requests\/sec/ {print $2}')"
target="$(awk -v c="$capacity" -v p="$CAPACITY_PCT" 'BEGIN { printf "%.0f", c*p/100 }')"
# wrk paces per connection: each waits DELAY_MS after its response (the
# latency at half load is small next to it, so it is not subtracted).
delay_ms="$(awk -v n="$CONNECTIONS" -v t="$target" 'BEGIN { d = n*1000/t; if (d < 1) d = 1; printf "%.0f", d }')"
log "capacity ${capacity} req/s; soaking ${SOAK_SECONDS} s at ~${target} req/s (${CAPACITY_PCT} %, delay ${delay_ms} ms per connection)"
sleep 2
heap_mib() { curl -s "$base/metrics" | awk '$1=="go_memstats_heap_inuse_bytes" {printf "%.1f", $2/1048576}'; }
rss_start="$(rss_kb)"
# Each minute: RSS and the Go heap in use, to tell a leak (steady growth)
# from caches and the collector settling (growth that stops).
( while sleep 60; do echo "$(( $(rss_kb) / 1024 ))/$(heap_mib)"; done ) >"$work/samples" 2>/dev/null &
sampler=$!
soak_out="$(run_wrk "$SOAK_SECONDS" "$delay_ms")"
kill "$sampler" 2>/dev/null || true
rss_end="$(rss_kb)"
echo "$soak_out" >&2
alive="$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")"

rps="$(echo "$soak_out" | awk '/Requests\/sec/ {print $2}')"
total="$(echo "$soak_out" | awk '/requests in/ {print $1}')"
p50="$(echo "$soak_out" | awk '$1=="50%" {print $2}')"
p99="$(echo "$soak_out" | awk '$1=="99%" {print $2}')"
non2xx="$(echo "$soak_out" | awk '/Non-2xx/ {print $NF}')"
sockerr="$(echo "$soak_out" | sed -n 's/.*Socket errors: //p')"
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k/1024 }'; }
section="$work/section.md"
{
  echo "## Soak"
  echo
  echo "\`SOAK_SECONDS=$SOAK_SECONDS scripts/soak.sh\` (\`make soak\`, not in CI): one node on PostgreSQL + Redis, $TENANTS tenants," \
    "a Bearer call, a secret-key call and /decisions in turn, wrk -t2 -c$CONNECTIONS paced to $CAPACITY_PCT % of the capacity" \
    "measured first; $(nproc) cores, $(date -u +%Y-%m-%d)."
  echo
  echo "| | value |"
  echo "|---|---|"
  echo "| capacity (10 s unpaced) | $capacity req/s |"
  echo "| soak | $SOAK_SECONDS s, $total requests, $rps req/s (target $target) |"
  echo "| latency | p50 $p50, p99 $p99 |"
  echo "| errors | non-2xx: ${non2xx:-0}; socket errors: ${sockerr:-none} |"
  echo "| RSS start → end | $(mib "$rss_start") → $(mib "$rss_end") ($(awk -v a="$rss_start" -v b="$rss_end" 'BEGIN { printf "%+.1f %%", (b-a)*100/a }')) |"
  echo "| RSS / Go heap in use, MiB, each minute | $(paste -sd' ' "$work/samples" | sed 's/ /, /g') |"
  echo "| /readyz after the soak | $alive |"
} >"$section"
cat "$section"
if [ "$WRITE_DOCS" = 1 ]; then
  "$root/scripts/docs-section.sh" "$root/docs/benchmarks.md" soak "$section"
  log "wrote the soak section of docs/benchmarks.md"
fi
if [ -n "${non2xx:-}" ] && [ "${non2xx:-0}" != 0 ]; then log "FAIL: $non2xx non-2xx responses"; exit 1; fi
if [ -n "$sockerr" ]; then log "FAIL: socket errors: $sockerr"; exit 1; fi
