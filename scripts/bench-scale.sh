#!/usr/bin/env bash
# Scale benchmark (not in CI): seed TENANTS tenants × USERS users × POLICIES
# policies on PostgreSQL (`gatehouse seed`), start a server on PostgreSQL +
# Redis, warm WARM_PCT % of the tenants (a login and a Bearer call each), and
# measure: RSS (VmRSS) idle, after warming and after the load; the p50/p99
# of CREATIONS tenant creations (POST /platform/tenants, alternating with as
# many on the 10-tenant server, so that their difference is the scale's); Bearer-call and
# /decisions latency with wrk rotating over the warm tenants — against the
# same measurement on a 10-tenant installation, served at the same time so
# that the wrk runs of the two alternate (bearer 10, bearer N, decisions 10,
# decisions N) and share the machine's load, which others vary. The results replace the
# section between <!-- scale:begin --> and <!-- scale:end --> of
# docs/benchmarks.md (WRITE_DOCS=0 prints them only). `make bench` runs it.
#
# After each seed the database is vacuumed, analyzed and checkpointed before
# the server starts: otherwise autovacuum and the checkpoint of the gigabytes
# the seed just wrote run during the measurements, and every commit (tenant
# creation) waits behind them — a cost of the bulk load, not of serving.
#
# Env: TENANTS (10000), USERS (100), POLICIES (20), WARM_PCT (10),
# CREATIONS (200), DURATION (wrk, 10s), CONNECTIONS (32), CONCURRENCY (seed, 8),
# PPROF (bearer or decisions: build with -tags benchpprof and save a 5 s CPU
# profile of the TENANTS server during that route to bench-scale-ROUTE.pprof).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
TENANTS="${TENANTS:-10000}"
USERS="${USERS:-100}"
POLICIES="${POLICIES:-20}"
WARM_PCT="${WARM_PCT:-10}"
CREATIONS="${CREATIONS:-200}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
CONCURRENCY="${CONCURRENCY:-8}"
WRITE_DOCS="${WRITE_DOCS:-1}"
PPROF="${PPROF:-}"
command -v wrk >/dev/null 2>&1 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }
set -a; eval "$("$root/scripts/services.sh")"; set +a

work="$(mktemp -d)"; pids=(); dbs=()
log() { echo "bench-scale: $*" >&2; }
stop_servers() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_servers
  for db in "${dbs[@]}"; do psql -q -h 127.0.0.1 -U postgres -d postgres -c "drop database if exists $db with (force)" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT
tags=""; [ -n "$PPROF" ] && tags="-tags=benchpprof"
(cd "$root" && go build $tags -o "$work/gatehouse" ./cmd/gatehouse)
pw="correct-horse-9"
export GATEHOUSE_ENV=test GATEHOUSE_LOG_LEVEL=warn
export GATEHOUSE_MASTER_KEY="bench-master-key-0123456789abcdef0123456789"
export GATEHOUSE_PLATFORM_KEY="bench-platform-key-0123456789abcdef"
export GATEHOUSE_REDIS_URL="$GATEHOUSE_TEST_REDIS_URL"
lifted='{"auth_ip_per_minute":100000000,"auth_ip_burst":1000000}'


free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; } # PID
mib() { awk -v k="$1" 'BEGIN { printf "%.0f MiB", k/1024 }'; }

# start_server DBNAME [PPROF_ADDR]: serve on a free port, wait for /healthz;
# sets pid and base.
start_server() {
  export GATEHOUSE_PPROF_ADDR="${2:-}"
  export GATEHOUSE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$1?sslmode=disable"
  export GATEHOUSE_REDIS_PREFIX="ghscale$$$1"
  local port; port="$(free_port)"
  base="http://127.0.0.1:$port"
  "$work/gatehouse" serve --addr "127.0.0.1:$port" >"$work/serve-$1.log" 2>&1 &
  pid=$!; pids+=("$pid")
  for _ in $(seq 1 200); do curl -sf "$base/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "server did not start:"; cat "$work/serve-$1.log" >&2; exit 1
}

# seed DBNAME N: a fresh database with N seeded tenants; prints the seed summary.
seed() {
  local db="$1" n="$2"
  dbs+=("$db")
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "create database $db" >/dev/null
  GATEHOUSE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable" GATEHOUSE_REDIS_PREFIX="ghscale$$$db" \
    "$work/gatehouse" seed --tenants "$n" --users-per-tenant "$USERS" --policies "$POLICIES" --prefix seed \
    --password "$pw" --concurrency "$CONCURRENCY" --settings "$lifted" | tail -n 3
  psql -q -h 127.0.0.1 -U postgres -d "$db" -c "vacuum (analyze)" -c "checkpoint" >/dev/null
}

# warm N COUNT TOKENS: against $base, log in user00000 of tenants seed-00000… (every step-th of all)
# and make one Bearer call and one /decisions call each; writes "slug token" lines to TOKENS.
warm() {
  local total="$1" count="$2" tokens="$3"
  local step=$(( total / count )); [ "$step" -ge 1 ] || step=1
  : >"$tokens"
  seq 0 $(( count - 1 )) | xargs -P 4 -I{} bash -c '
    i=$(( {} * '"$step"' )); slug=$(printf "seed-%05d" "$i")
    tok=$(curl -s -X POST "'"$base"'/t/$slug/auth/user/emailpass" -H "content-type: application/json" \
      -d "{\"email\":\"user00000@$slug.test\",\"password\":\"'"$pw"'\"}" | sed -n "s/.*\"token\":\"\([^\"]*\)\".*/\1/p")
    [ -n "$tok" ] || { echo "warm: login to $slug failed" >&2; exit 1; }
    st=$(curl -s -o /dev/null -w "%{http_code}" "'"$base"'/t/$slug/admin/users/me" -H "authorization: Bearer $tok")
    [ "$st" = 200 ] || { echo "warm: Bearer call on $slug: $st" >&2; exit 1; }
    # /admin/users/me needs no permission: load the tenant'"'"'s enforcer too.
    st=$(curl -s -o /dev/null -w "%{http_code}" "'"$base"'/decisions" -H "x-tenant-id: $slug" -H "authorization: Bearer $tok" \
      -H "X-Original-Method: GET" -H "X-Original-URI: /admin/users")
    [ "$st" = 200 ] || { echo "warm: /decisions on $slug: $st" >&2; exit 1; }
    echo "$slug $tok"' >>"$tokens"
}

cat >"$work/rotate.lua" <<'LUA'
-- Rotate over the warm tenants: "slug token" lines of the file in TOKENS.
local creds = {}
local mode = os.getenv("MODE")
for line in io.lines(os.getenv("TOKENS")) do
  local slug, tok = line:match("^(%S+) (%S+)$")
  if slug then creds[#creds + 1] = { slug, tok } end
end
local i = 0
request = function()
  i = i % #creds + 1
  local c = creds[i]
  if mode == "decisions" then
    return wrk.format("GET", "/decisions", {
      ["x-tenant-id"] = c[1], ["authorization"] = "Bearer " .. c[2],
      ["X-Original-Method"] = "GET", ["X-Original-URI"] = "/admin/users" })
  end
  return wrk.format("GET", "/t/" .. c[1] .. "/admin/users/me", { ["authorization"] = "Bearer " .. c[2] })
end
LUA

# measure MODE TOKENS: wrk against $base over the warm tenants of TOKENS;
# prints "req/s|p50|p99|non2xx|errors".
measure() {
  local out
  out="$(MODE="$1" TOKENS="$2" wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/rotate.lua" "$base" 2>&1)"
  local rps p50 p99 non2xx errs
  rps="$(echo "$out" | awk '/Requests\/sec/ {print $2}')"
  p50="$(echo "$out" | awk '$1=="50%" {print $2}')"
  p99="$(echo "$out" | awk '$1=="99%" {print $2}')"
  non2xx="$(echo "$out" | awk '/Non-2xx/ {print $NF}')"
  errs="$(echo "$out" | awk '/Socket errors/ {print $0}' | sed 's/.*Socket errors: //')"
  echo "$rps|$p50|$p99|${non2xx:-0}|${errs:-none}"
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
load_start="$(loadavg)"

# --- the two installations ---------------------------------------------------
log "seeding the 10-tenant baseline (load average $load_start)"
seed "gh_scale10_$$" 10 >/dev/null
log "seeding $TENANTS tenants × $USERS users × $POLICIES policies"
t0=$(date +%s.%N)
dbs+=("gh_scale_$$") # seed runs in a subshell here: its dbs+= is lost
seed_out="$(seed "gh_scale_$$" "$TENANTS")"
seed_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b-a }')
echo "$seed_out" >&2
db_size="$(psql -At -h 127.0.0.1 -U postgres -d postgres -c "select pg_size_pretty(pg_database_size('gh_scale_$$'))")"
start_server "gh_scale10_$$"; small_pid=$pid small_base=$base
pprof_addr=""; [ -n "$PPROF" ] && pprof_addr="127.0.0.1:$(free_port)"
start_server "gh_scale_$$" "$pprof_addr"; big_pid=$pid big_base=$base
sleep 1
rss_idle="$(rss_kb "$big_pid")"

base=$small_base
warm 10 10 "$work/tokens10"
small_rss_warm="$(rss_kb "$small_pid")"
base=$big_base
warm_n=$(( TENANTS * WARM_PCT / 100 )); [ "$warm_n" -ge 1 ] || warm_n=1
log "warming $warm_n tenants"
tw=$(date +%s.%N)
warm "$TENANTS" "$warm_n" "$work/tokens"
warm_s=$(awk -v a="$tw" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b-a }')
rss_warm="$(rss_kb "$big_pid")"

log "timing $CREATIONS tenant creations on each server, alternating"
load_create="$(loadavg)"
# create BASE I: one POST /platform/tenants; prints "status seconds".
create() {
  curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST "$1/platform/tenants" \
    -H "authorization: Bearer $GATEHOUSE_PLATFORM_KEY" -H 'content-type: application/json' \
    -d "{\"slug\":\"new-$2-$$\",\"name\":\"New $2\"}"
}
: >"$work/create.times"; : >"$work/create10.times"
for i in $(seq 1 "$CREATIONS"); do
  create "$small_base" "$i" >>"$work/create10.times"
  create "$big_base" "$i" >>"$work/create.times"
done
# create_stats FILE: "p50 p99 max non-200" in ms.
create_stats() {
  local bad; bad="$(awk '$1 != 200' "$1" | wc -l)"
  awk '{print $2*1000}' "$1" | sort -n | awk -v bad="$bad" '
    { v[NR] = $1 } END { i50 = int(NR*0.50 + 0.999); i99 = int(NR*0.99 + 0.999); printf "%.1f %.1f %.1f %d\n", v[i50], v[i99], v[NR], bad }'
}
read -r create_p50 create_p99 create_max create_bad < <(create_stats "$work/create.times")
read -r create10_p50 create10_p99 create10_max create10_bad < <(create_stats "$work/create10.times")

log "wrk, alternating: 10 tenants, then the $warm_n warm tenants of $TENANTS"
load_wrk="$(loadavg)"
base=$small_base; small_bearer="$(measure bearer "$work/tokens10")"
# profile ROUTE: in the background, a CPU profile of the big server when PPROF=ROUTE.
prof=""
profile() {
  [ "$PPROF" = "$1" ] || return 0
  curl -s -o "$root/bench-scale-$1.pprof" "http://$pprof_addr/debug/pprof/profile?seconds=5" &
  prof=$!
}
base=$big_base; profile bearer; big_bearer="$(measure bearer "$work/tokens")"
base=$small_base; small_dec="$(measure decisions "$work/tokens10")"
base=$big_base; profile decisions; big_dec="$(measure decisions "$work/tokens")"
[ -z "$prof" ] || wait "$prof"
rss_end="$(rss_kb "$big_pid")"
small_rss="$(rss_kb "$small_pid")"
stop_servers
load_end="$(loadavg)"

# ms VALUE: a wrk latency (850.00us, 2.10ms, 1.02s) in milliseconds.
ms() { awk -v v="$1" 'BEGIN {
  n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
  if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
  printf "%.2f", n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else print "n/a" }'; }
row() { # name, big, small
  IFS='|' read -r rps p50 p99 non errs <<<"$2"
  IFS='|' read -r srps sp50 sp99 snon serrs <<<"$3"
  echo "| $1 | $rps | $(ms "$p50") | $(ms "$p99") | $non | $srps | $(ms "$sp50") | $(ms "$sp99") | $snon |" \
    "$(ratio "$(ms "$p50")" "$(ms "$sp50")") / $(ratio "$(ms "$p99")" "$(ms "$sp99")") / $(ratio "$rps" "$srps") |"
}
section="$work/section.md"
{
  echo "Generated by \`TENANTS=$TENANTS USERS=$USERS POLICIES=$POLICIES WARM_PCT=$WARM_PCT CREATIONS=$CREATIONS" \
    "DURATION=$DURATION CONNECTIONS=$CONNECTIONS CONCURRENCY=$CONCURRENCY scripts/bench-scale.sh\` (\`make bench\`)" \
    "on $(date -u '+%Y-%m-%d %H:%M') UTC: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))," \
    "$(go env GOVERSION), PostgreSQL + Redis on 127.0.0.1, wrk -t2 -c$CONNECTIONS -d$DURATION on the same machine." \
    "Load average (1/5/15 min): $load_start at the start, $load_create before the creations, $load_wrk before the" \
    "wrk runs, $load_end at the end. Every seeded user shares one password hash (\`gatehouse seed\`);" \
    "each seeded database is vacuumed, analyzed and checkpointed before its server starts."
  echo
  echo "| | value |"
  echo "|---|---|"
  echo "| seed: $TENANTS tenants × $USERS users × $POLICIES policies | ${seed_s} s wall ($(echo "$seed_out" | sed -n 's/^time: \([^ ]*\) total (\([^)]*\)).*/\1, \2/p')); database $db_size |"
  echo "| warm $warm_n tenants (login, Bearer call, /decisions each; 4 at a time) | ${warm_s} s |"
  echo "| RSS at $TENANTS tenants: idle / after warming $WARM_PCT % / after the wrk runs | $(mib "$rss_idle") / $(mib "$rss_warm") / $(mib "$rss_end") |"
  echo "| RSS at 10 tenants: after warming / after its wrk runs | $(mib "$small_rss_warm") / $(mib "$small_rss") |"
  echo "| POST /platform/tenants at $TENANTS tenants ($CREATIONS, one at a time, curl) | p50 ${create_p50} ms, p99 ${create_p99} ms, max ${create_max} ms; non-200: $create_bad |"
  echo "| POST /platform/tenants at 10 tenants, alternating with the above | p50 ${create10_p50} ms, p99 ${create10_p99} ms, max ${create10_max} ms; non-200: $create10_bad |"
  echo
  echo "Latency in ms. The two servers ran side by side and their wrk runs alternated (10 tenants first); the ratio" \
    "column is $TENANTS tenants ÷ 10 tenants (p50 / p99 / req/s)."
  echo
  echo "| route (rotating over the warm tenants) | req/s | p50 | p99 | non-2xx | 10 tenants: req/s | p50 | p99 | non-2xx | ratio p50 / p99 / req/s |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  row "GET /admin/users/me (Bearer JWT)" "$big_bearer" "$small_bearer"
  row "GET /decisions (Bearer JWT + RBAC on GET /admin/users)" "$big_dec" "$small_dec"
} >"$section"
cat "$section"

if [ "$WRITE_DOCS" = 1 ]; then
  "$root/scripts/docs-section.sh" "$root/docs/benchmarks.md" scale "$section"
  log "wrote the scale section of docs/benchmarks.md"
fi
