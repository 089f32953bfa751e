#!/usr/bin/env bash
# docs-section.sh FILE NAME CONTENT [HEADING]: replace what lies between the
# lines <!-- NAME:begin --> and <!-- NAME:end --> of FILE with the lines of the
# file CONTENT; when FILE has no such block, append it (under "## HEADING"
# when one is given). The benchmark scripts write their generated sections of
# docs/benchmarks.md with it.
set -euo pipefail
file="$1" b="<!-- $2:begin -->" e="<!-- $2:end -->" content="$3" heading="${4:-}"
[ -f "$file" ] || printf '# Benchmarks\n' >"$file"
if grep -qxF "$b" "$file" && grep -qxF "$e" "$file"; then
  awk -v b="$b" -v e="$e" -v f="$content" '
    $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
    $0 == e { skip = 0 }
    !skip { print }' "$file" >"$file.tmp.$$"
  mv "$file.tmp.$$" "$file"
else
  { echo; [ -n "$heading" ] && printf '## %s\n\n' "$heading"; echo "$b"; cat "$content"; echo "$e"; } >>"$file"
fi
