#!/usr/bin/env bash
# Run every ```sh block of docs/guide.md, in order, against a fresh server,
# and assert the status of each line that ends in "# expect NNN" (the last
# HTTP response of that line). ```shell blocks are shown to readers but not
# run: this script builds gatehouse, puts it on PATH and starts the server
# itself (SQLite in a temp dir, in-memory store, random port), as
# scripts/conformance.sh does.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
guide="${1:-$root/docs/guide.md}"
command -v jq >/dev/null 2>&1 || { echo "docs-check: installing jq" >&2; if [ "$(id -u)" = 0 ]; then apt-get install -y -qq jq >&2 || { apt-get update -qq >&2 && apt-get install -y -qq jq >&2; }; else sudo apt-get install -y -qq jq >&2; fi; }

work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

mkdir -p "$work/bin"
go build -o "$work/bin/gatehouse" "$root/cmd/gatehouse"
export PATH="$work/bin:$PATH"
# development: cookies are not Secure, so curl's cookie jar works over http.
export GATEHOUSE_ENV=development
export GATEHOUSE_DATABASE_URL="sqlite:$work/gatehouse.db"
export GATEHOUSE_MASTER_KEY="docs-check-master-key-$(date +%s)-0123456789abcdef"
export GATEHOUSE_PLATFORM_KEY="docs-check-platform-key-0123456789"
unset GATEHOUSE_REDIS_URL
gatehouse migrate >/dev/null
# The guide's own block creates the tenant; serve now, before it (the demo
# tenant is only made on an empty database, so make it non-empty first).
gatehouse tenant create --slug docs-check-bootstrap --name "bootstrap" >/dev/null
gatehouse serve --addr 127.0.0.1:0 >"$work/out.log" 2>"$work/err.log" &
pid=$!
addr=""
for _ in $(seq 1 100); do
  addr="$(sed -n 's/.*msg=listening addr=\([0-9.:]*\).*/\1/p; s/.*"msg":"listening","addr":"\([0-9.:]*\)".*/\1/p' "$work/err.log" | head -n1)"
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/err.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "docs-check: server did not start" >&2; cat "$work/err.log" >&2; exit 1; }

# The guide's sh blocks, continuation lines joined.
awk '/^```sh[[:space:]]*$/{on=1; next} /^```/{on=0} on' "$guide" |
  sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' >"$work/blocks.sh"
[ -s "$work/blocks.sh" ] || { echo "docs-check: no sh blocks in $guide" >&2; exit 1; }

# The script: curl dumps each response's headers to a file; after a line
# with "# expect NNN", the last status in that file must be NNN.
{
  echo 'set -eo pipefail'
  echo "export GH=http://$addr"
  echo "__hdr=$work/headers; __n=0; __checked=0"
  echo 'curl() { : >"$__hdr"; command curl -sS --max-time 10 -D "$__hdr" "$@"; }'
  echo '__expect() { local got; got="$(awk '"'"'/^HTTP\//{s=$2} END{print s}'"'"' "$__hdr")"; __checked=$((__checked+1));'
  echo '  if [ "$got" != "$1" ]; then echo "docs-check: FAIL line $2: got ${got:-no response}, want $1" >&2; echo "  $3" >&2; exit 1; fi; echo "  ok $1  $3" >&2; }'
  n=0
  while IFS= read -r line; do
    n=$((n+1))
    printf '%s\n' "$line"
    if [[ "$line" =~ \#\ expect\ ([0-9]{3})[[:space:]]*$ ]]; then
      printf '__expect %s %d %q >/dev/null\n' "${BASH_REMATCH[1]}" "$n" "${line:0:110}"
    fi
  done <"$work/blocks.sh"
  echo 'echo "docs-check: $__checked statuses checked" >&2'
} >"$work/run.sh"

want="$(grep -cE '# expect [0-9]{3}[[:space:]]*$' "$work/blocks.sh")"
echo "docs-check: running $(grep -c . "$work/blocks.sh") lines of $(basename "$guide") against http://$addr ($want status checks)"
if ! (cd "$work" && bash "$work/run.sh" >"$work/stdout.log"); then
  echo "docs-check: FAILED; server log:" >&2
  tail -n 30 "$work/err.log" >&2
  exit 1
fi
echo "docs-check: ok"
