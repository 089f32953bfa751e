#!/usr/bin/env bash
# HTTP benchmarks with wrk against a Gatehouse started here on PostgreSQL +
# Redis (scripts/services.sh brings them up), seeded with a tenant, an admin,
# a secret key, a publishable key and a customer:
#   /healthz (the ceiling), GET /admin/users/me (Bearer), GET
#   /admin/sales-channels?limit=1 (secret key), GET /store/customers/me
#   (publishable key + customer Bearer), GET /decisions (nginx style, Bearer +
#   RBAC), POST /auth/user/emailpass (login), and the Bearer call again while a
#   login burst runs beside it.
# Each route runs at -c$CONNECTIONS (throughput, p50) and at -c$P99_CONNECTIONS
# (p99). Ratios are to the /healthz ceiling of the same run; login is compared
# with the argon2id limit (cores / hash time, measured here by the Go
# benchmark BenchmarkVerify).
#
# Env: DURATION (default 10s), CONNECTIONS (32), P99_CONNECTIONS (64),
#      WRITE_DOCS (1: replace the generated section of docs/benchmarks.md),
#      CHECK (1: exit 1 when a route answered anything but 2xx, or nothing:
#      make bench-smoke),
#      PAIRS (5) and PAIR_DURATION (4s): /decisions against /healthz is also
#      measured in PAIRS rounds of one run each, back to back, and reported
#      as the median of the rounds' ratios (a shared machine's neighbours
#      move one 10 s run by ±10 %; a pair sees the same neighbours),
#      PPROF (a route name such as bearer, secret, decisions, store, login:
#      build with -tags benchpprof and save a 5 s CPU profile of the server
#      during that route to bench-<route>.pprof).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
P99_CONNECTIONS="${P99_CONNECTIONS:-64}"
WRITE_DOCS="${WRITE_DOCS:-1}"
PPROF="${PPROF:-}"
CHECK="${CHECK:-0}"
PAIRS="${PAIRS:-5}"
PAIR_DURATION="${PAIR_DURATION:-4s}"
command -v wrk >/dev/null 2>&1 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }
set -a; eval "$("$root/scripts/services.sh")"; set +a

work="$(mktemp -d)"; pid=""; dbname="gh_bench_$$"; burst=""
cleanup() {
  [ -n "$burst" ] && kill "$burst" 2>/dev/null || true
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "drop database if exists $dbname with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
tags=""; [ -n "$PPROF" ] && tags="-tags=benchpprof"
(cd "$root" && CGO_ENABLED=0 go build -trimpath $tags -o "$work/gatehouse" ./cmd/gatehouse)
psql -q -h 127.0.0.1 -U postgres -d postgres -c "create database $dbname" >/dev/null
export GATEHOUSE_ENV=test GATEHOUSE_LOG_LEVEL=warn
export GATEHOUSE_MASTER_KEY="bench-master-key-0123456789abcdef0123456789"
export GATEHOUSE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$dbname?sslmode=disable"
export GATEHOUSE_REDIS_URL="$GATEHOUSE_TEST_REDIS_URL" GATEHOUSE_REDIS_PREFIX="ghbench$$"
pprof_port=""; [ -n "$PPROF" ] && { pprof_port=127.0.0.1:6061; export GATEHOUSE_PPROF_ADDR=$pprof_port; }
pw="correct-horse-9"
"$work/gatehouse" migrate >/dev/null
# The load comes from one address: lift the per-address auth budget.
"$work/gatehouse" tenant create --slug bench --name Bench --settings '{"auth_ip_per_minute":100000000,"auth_ip_burst":1000000}' >/dev/null
"$work/gatehouse" user create --tenant bench -e admin@bench.test -p "$pw" >/dev/null
sk="$("$work/gatehouse" apikey create --tenant bench --type secret --title bench | tail -n1)"
"$work/gatehouse" serve --addr 127.0.0.1:0 >"$work/out.log" 2>"$work/err.log" &
pid=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(ss -ltnp 2>/dev/null | grep "pid=$pid," | grep -o '127.0.0.1:[0-9]*' | grep -v "${pprof_port:-none}" | head -n1 || true)"
  [ -n "$addr" ] && curl -sf "http://$addr/healthz" >/dev/null 2>&1 && break
  addr=""; sleep 0.1
done
[ -n "$addr" ] || { echo "bench-http: gatehouse did not start" >&2; cat "$work/err.log" >&2; exit 1; }
base="http://$addr"
H=(-H "x-tenant-id: bench")
json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
tok="$(curl -s -X POST "$base/auth/user/emailpass" "${H[@]}" -H 'content-type: application/json' -d "{\"email\":\"admin@bench.test\",\"password\":\"$pw\"}" | json_field token)"
[ -n "$tok" ] || { echo "bench-http: admin login failed" >&2; exit 1; }
uid="$(curl -s "$base/admin/users/me" "${H[@]}" -H "authorization: Bearer $tok" | json_field id)"
pk="$(curl -s -X POST "$base/admin/api-keys" "${H[@]}" -H "authorization: Bearer $tok" -H 'content-type: application/json' -d '{"title":"pk","type":"publishable"}' | json_field token)"
# A customer: register, create the customer with the registration token, log in.
reg="$(curl -s -X POST "$base/auth/customer/emailpass/register" "${H[@]}" -H 'content-type: application/json' -d "{\"email\":\"shopper@bench.test\",\"password\":\"$pw\"}" | json_field token)"
curl -s -o /dev/null -X POST "$base/store/customers" "${H[@]}" -H "x-publishable-api-key: $pk" -H "authorization: Bearer $reg" -H 'content-type: application/json' -d '{"email":"shopper@bench.test"}'
ctok="$(curl -s -X POST "$base/auth/customer/emailpass" "${H[@]}" -H 'content-type: application/json' -d "{\"email\":\"shopper@bench.test\",\"password\":\"$pw\"}" | json_field token)"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/store/customers/me" "${H[@]}" -H "x-publishable-api-key: $pk" -H "authorization: Bearer $ctok")" = 200 ] ||
  { echo "bench-http: customer setup failed" >&2; exit 1; }
cat >"$work/login.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"email":"admin@bench.test","password":"$pw"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["x-tenant-id"] = "bench"
LUA

# Route table: key|label|wrk arguments (one per line, eval'd into an array).
declare -A label args
keys=(healthz bearer secret channels store decisions login)
label[healthz]="GET /healthz (ceiling)"
args[healthz]="\"$base/healthz\""
label[bearer]="GET /admin/users/me (Bearer JWT)"
args[bearer]="-H 'x-tenant-id: bench' -H 'authorization: Bearer $tok' \"$base/admin/users/me\""
label[secret]="GET /admin/users/{id} (secret key)"
args[secret]="-H 'x-tenant-id: bench' -H 'authorization: Basic $sk' \"$base/admin/users/$uid\""
label[channels]="GET /admin/sales-channels?limit=1 (secret key; list + count, uncached)"
args[channels]="-H 'x-tenant-id: bench' -H 'authorization: Basic $sk' \"$base/admin/sales-channels?limit=1\""
label[store]="GET /store/customers/me (publishable key + customer Bearer)"
args[store]="-H 'x-tenant-id: bench' -H 'x-publishable-api-key: $pk' -H 'authorization: Bearer $ctok' \"$base/store/customers/me\""
label[decisions]="GET /decisions (nginx style: Bearer JWT + RBAC on GET /admin/users)"
args[decisions]="-H 'x-tenant-id: bench' -H 'authorization: Bearer $tok' -H 'X-Original-Method: GET' -H 'X-Original-URI: /admin/users' \"$base/decisions\""
label[login]="POST /auth/user/emailpass (login, argon2id)"
args[login]="-s \"$work/login.lua\" \"$base/auth/user/emailpass\""

# wrk_run connections duration key → "rps|p50|p99|non2xx|errors"
wrk_run() {
  local c="$1" d="$2" key="$3" out
  eval "local a=(${args[$key]})"
  out="$(wrk -t2 -c"$c" -d"$d" --timeout 10s --latency "${a[@]}" 2>&1)"
  local rps p50 p99 non err
  rps="$(echo "$out" | awk '/Requests\/sec/ {printf "%d", $2}')"
  p50="$(echo "$out" | awk '$1=="50%" {print $2}')"
  p99="$(echo "$out" | awk '$1=="99%" {print $2}')"
  non="$(echo "$out" | awk '/Non-2xx/ {print $NF}')"
  err="$(echo "$out" | awk '/Socket errors/ {print $0}' | sed 's/.*errors: //')"
  echo "$rps|$p50|$p99|${non:-0}|${err:-}"
}
# A short warm-up fills the connection pools and caches; logins warm up at
# 8 connections for 2 s (the argon2id pool's first 64 MiB blocks and the
# heap growth they cause are a start-up cost, not a steady-state one).
for key in "${keys[@]}"; do
  if [ "$key" = login ]; then wrk_run 8 2s login >/dev/null; else wrk_run 32 1s "$key" >/dev/null; fi
done

declare -A r32 r64; login_load=""
for key in "${keys[@]}"; do
  if [ "$PPROF" = "$key" ]; then
    curl -s -o "$root/bench-$key.pprof" "http://$pprof_port/debug/pprof/profile?seconds=5" &
    prof=$!
  fi
  # Logins are CPU-bound: with other work on the machine they fall short of
  # the argon2id limit by the CPU it takes, so the report shows the load.
  [ "$key" = login ] && login_load="$(cut -d' ' -f1 /proc/loadavg)"
  r32[$key]="$(wrk_run "$CONNECTIONS" "$DURATION" "$key")"
  [ "$PPROF" = "$key" ] && wait "$prof"
  r64[$key]="$(wrk_run "$P99_CONNECTIONS" "$DURATION" "$key")"
done
# /decisions ÷ /healthz in back-to-back pairs (see PAIRS above).
pair_ratios=()
for _ in $(seq 1 "$PAIRS"); do
  h="$(wrk_run "$CONNECTIONS" "$PAIR_DURATION" healthz | cut -d'|' -f1)"
  d="$(wrk_run "$CONNECTIONS" "$PAIR_DURATION" decisions | cut -d'|' -f1)"
  pair_ratios+=("$(awk -v a="${d:-0}" -v b="${h:-0}" 'BEGIN { if (b > 0) printf "%.1f", 100*a/b; else print 0 }')")
done
pair_median="$(printf '%s\n' "${pair_ratios[@]}" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR+1)/2]; else printf "%.1f", (v[NR/2] + v[NR/2+1]) / 2 }')"

# Bearer under a login burst: 8 connections of logins beside the Bearer run.
burst_load="$(cut -d' ' -f1 /proc/loadavg)"
wrk -t1 -c8 -d"$DURATION" --timeout 10s -s "$work/login.lua" "$base/auth/user/emailpass" >"$work/burst.out" 2>&1 &
burst=$!
sleep 0.5
burst32="$(wrk_run "$P99_CONNECTIONS" "$DURATION" bearer)"
wait "$burst" || true; burst=""
burst_rps="$(awk '/Requests\/sec/ {printf "%.1f", $2}' "$work/burst.out")"

# argon2id limit: cores / hash time (BenchmarkVerify, ns/op).
verify_ns="$(cd "$root" && go test ./auth -run '^$' -bench '^BenchmarkVerify$' -benchtime 20x 2>/dev/null | awk '/^BenchmarkVerify/ && !n++ {print $3}')"
cores="$(nproc)"
limit="$(awk -v c="$cores" -v ns="${verify_ns:-0}" 'BEGIN { if (ns > 0) printf "%.1f", c * 1e9 / ns }')"

ms() { # wrk latency (850.00us, 1.20ms, 1.02s) → ms
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'
}
ceiling="$(echo "${r32[healthz]}" | cut -d'|' -f1)"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
report() {
  echo "Generated by \`scripts/bench-http.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $cores cores ($cpu), $(go version | awk '{print $3}'),"
  echo "PostgreSQL + Redis on 127.0.0.1, wrk on the same machine. Throughput and p50: \`wrk -t2 -c$CONNECTIONS -d$DURATION --latency\`;"
  echo "p99: the same at \`-c$P99_CONNECTIONS\`. Ratios are to the /healthz ceiling of this run; login to the argon2id limit"
  echo "($cores cores ÷ ${verify_ns:-?} ns per hash = ${limit:-?}/s, BenchmarkVerify)."
  echo
  echo "| route | req/s (c$CONNECTIONS) | p50 (c$CONNECTIONS) | p99 (c$P99_CONNECTIONS) | req/s (c$P99_CONNECTIONS) | non-2xx | ratio |"
  echo "|---|---|---|---|---|---|---|"
  for key in "${keys[@]}"; do
    IFS='|' read -r rps p50 _ non _ <<<"${r32[$key]}"
    IFS='|' read -r rps64 _ p99 non64 _ <<<"${r64[$key]}"
    if [ "$key" = login ]; then
      ratio="$(awk -v a="$rps" -v b="${limit:-0}" -v l="$login_load" 'BEGIN { if (b > 0) printf "%.0f %% of the argon2id limit (load %s)", 100*a/b, l }')"
    else
      ratio="$(awk -v a="$rps" -v b="$ceiling" 'BEGIN { if (b > 0) printf "%.0f %%", 100*a/b }')"
    fi
    echo "| ${label[$key]} | $rps | $(ms "$p50") ms | $(ms "$p99") ms | $rps64 | $((non + non64)) | $ratio |"
  done
  IFS='|' read -r brps bp50 bp99 bnon _ <<<"$burst32"
  IFS='|' read -r _ _ np99 _ _ <<<"${r64[bearer]}"
  echo "| /decisions ÷ /healthz, $PAIRS back-to-back pairs of \`wrk -c$CONNECTIONS -d$PAIR_DURATION\` | — | — | — | — | — | median $pair_median % (rounds: $(IFS=,; echo "${pair_ratios[*]}" | sed 's/,/ %, /g') %) |"
  echo "| Bearer /admin/users/me at c$P99_CONNECTIONS during a login burst (8 connections, $burst_rps logins/s) | $brps | $(ms "$bp50") ms | $(ms "$bp99") ms | — | $bnon | p99 $(awk -v a="$(ms "$bp99")" -v b="$(ms "$np99")" 'BEGIN { if (b > 0) printf "%.1f×", a/b }') the quiet p99 (load $burst_load) |"
}
out="$(report)"
echo "$out"
if [ "$CHECK" = 1 ]; then
  bad=0
  for key in "${keys[@]}"; do
    for r in "${r32[$key]}" "${r64[$key]}"; do
      IFS='|' read -r rps _ _ non err <<<"$r"
      if { [ "$key" != login ] && [ "${rps:-0}" -le 0 ]; } || [ "${non:-0}" != 0 ] || [ -n "$err" ]; then
        echo "bench-http: ${label[$key]}: $rps req/s, $non non-2xx, socket errors: ${err:-none}" >&2; bad=1
      fi
    done
  done
  [ "$bad" = 0 ] || exit 1
fi
if [ "$WRITE_DOCS" = 1 ]; then
  doc="$root/docs/benchmarks.md"
  printf '%s\n' "$out" >"$work/section"
  "$root/scripts/docs-section.sh" "$doc" bench-http "$work/section" HTTP
  echo "bench-http: wrote $doc" >&2
fi
