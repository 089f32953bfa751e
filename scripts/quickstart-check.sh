#!/usr/bin/env bash
# Run the README's quick start as a reader would: `make run` (the real
# target, console build included when node is installed), read the demo
# admin's password from its output, then run the README's ```sh block that
# follows "Then, with that password" with PASSWORD and localhost:9000
# replaced by the real values, and check each response. Only the database
# file and the port differ from a first run (a temp dir and a free port), so
# a developer's ./data is never touched.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v jq >/dev/null 2>&1 || { echo "quickstart-check: installing jq" >&2; apt-get install -y -qq jq >&2 || { apt-get update -qq >&2 && apt-get install -y -qq jq >&2; }; }

work="$(mktemp -d)"
pgid=""
cleanup() { [ -n "$pgid" ] && kill -- "-$pgid" 2>/dev/null; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export GATEHOUSE_DATABASE_URL="sqlite:$work/gatehouse.db" GATEHOUSE_ADDR="127.0.0.1:$port"
unset GATEHOUSE_REDIS_URL GATEHOUSE_ENV
setsid make run >"$work/out.log" 2>"$work/err.log" &
pgid=$!
pw=""
for _ in $(seq 1 1200); do # `go run` and the console build can take a while on a cold cache
  pw="$(sed -n 's/^  password: \([^ ]*\) .*/\1/p' "$work/out.log" | head -n1)"
  [ -n "$pw" ] && curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$pgid" 2>/dev/null || { cat "$work/out.log" "$work/err.log" >&2; echo "quickstart-check: make run exited" >&2; exit 1; }
  sleep 0.25
done
[ -n "$pw" ] || { cat "$work/out.log" "$work/err.log" >&2; echo "quickstart-check: no demo password printed" >&2; exit 1; }
grep -q 'Created tenant "demo"' "$work/out.log" || { echo "quickstart-check: no demo tenant line" >&2; exit 1; }

# The README block after "Then, with that password:".
awk '/^Then, with that password/{f=1} f && /^```sh/{on=1; next} on && /^```/{exit} on' README.md |
  sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' |
  sed -e "s/PASSWORD/$pw/g" -e "s/localhost:9000/127.0.0.1:$port/g" >"$work/quickstart.sh"
[ "$(grep -c curl "$work/quickstart.sh")" -ge 3 ] || { echo "quickstart-check: README quick-start block not found" >&2; exit 1; }
out="$(bash -eo pipefail "$work/quickstart.sh")"
echo "$out" | sed 's/^/  /'
# The block prints /admin/users/me then the new sales channel.
echo "$out" | jq -se '.[0].user.email == "admin@demo.localhost" and (.[1].sales_channel.name == "Web shop")' >/dev/null ||
  { echo "quickstart-check: unexpected responses" >&2; exit 1; }
# The console page is served (built, or the how-to-build page without Node).
code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/t/demo/app/")"
case "$code" in 200|404) ;; *) echo "quickstart-check: /t/demo/app/ answered $code" >&2; exit 1;; esac
echo "quickstart-check: ok (make run, demo admin signed in, README curls answered; /app/ $code)"
