#!/usr/bin/env bash
# Check that deploy/docker/Dockerfile builds the same binary as `make build`:
# extract the `go build` command of the Dockerfile, compare its words (env,
# flags, -ldflags, package) with the Makefile's build target, then run it
# outside Docker into a temp dir, and check the result reports the version
# info passed in and is byte-identical to the Makefile's command's output.
# Also checks that the Dockerfile's Go version is go.mod's. No Docker needed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dockerfile=deploy/docker/Dockerfile
fail() { echo "dockerfile-build-check: $*" >&2; exit 1; }

version="check-$(date +%s)" commit="abc1234" date="2001-02-03T04:05:06Z"

# The Dockerfile's RUN that holds `go build` (backslash continuations joined),
# from the command's env assignment on, with the build args substituted.
docker_cmd="$(sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' "$dockerfile" | grep -E '^RUN .*go build' | head -n1 || true)"
[ -n "$docker_cmd" ] || fail "no RUN with 'go build' in $dockerfile"
docker_cmd="$(sed -E 's/.*[[:space:]](CGO_ENABLED=[^ ]+ go build)/\1/; s/[[:space:]]+$//' <<<"$docker_cmd")"
docker_cmd="${docker_cmd//\$\{VERSION\}/$version}"
docker_cmd="${docker_cmd//\$\{COMMIT\}/$commit}"
docker_cmd="${docker_cmd//\$\{DATE\}/$date}"
case "$docker_cmd" in *'${'*|*'$('*|*'`'*) fail "unexpected substitution left in: $docker_cmd";; esac

# The Makefile's build target, as make would run it.
make_cmd="$(make -s -n build VERSION="$version" COMMIT="$commit" DATE="$date" GO=go | grep 'go build' | head -n1)"
[ -n "$make_cmd" ] || fail "make -n build printed no go build command"

# Split both into words with the shell's own quoting rules; the output path
# (-o X) is the one difference allowed.
words() { eval "set -- $1"; local out=() prev=""; for w in "$@"; do if [ "$prev" = "-o" ]; then out+=("<out>"); else out+=("$w"); fi; prev="$w"; done; printf '%s\n' "${out[@]}"; }
if ! diff <(words "$make_cmd") <(words "$docker_cmd") >/tmp/dockerfile-build-check.$$.diff; then
  echo "dockerfile-build-check: the Dockerfile's go build differs from 'make build':" >&2
  echo "  make:       $make_cmd" >&2
  echo "  Dockerfile: $docker_cmd" >&2
  cat /tmp/dockerfile-build-check.$$.diff >&2; rm -f /tmp/dockerfile-build-check.$$.diff
  exit 1
fi
rm -f /tmp/dockerfile-build-check.$$.diff

# The Go version of the build stage is go.mod's.
gomod_go="$(awk '$1=="toolchain"{sub(/^go/,"",$2); t=$2} $1=="go"{g=$2} END{print (t!=""?t:g)}' go.mod)"
docker_go="$(sed -nE 's/^ARG GO_VERSION=(.*)$/\1/p' "$dockerfile" | head -n1)"
[ "$docker_go" = "$gomod_go" ] || fail "Dockerfile GO_VERSION=$docker_go but go.mod wants go $gomod_go"

# Run both outside Docker, as the image's build stage does.
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
export GOFLAGS=-buildvcs=false
with_out() { local o="$2"; eval "set -- $1"; local args=() prev=""; for w in "$@"; do if [ "$prev" = "-o" ]; then args+=("$o"); else args+=("$w"); fi; prev="$w"; done; printf '%q ' "${args[@]}"; }
eval "$(with_out "$docker_cmd" "$work/docker/gatehouse")" 2>&1 | sed 's/^/  /' >&2
eval "$(with_out "$make_cmd" "$work/make/gatehouse")" 2>&1 | sed 's/^/  /' >&2
[ -x "$work/docker/gatehouse" ] || fail "the Dockerfile's build command produced no binary"
got="$("$work/docker/gatehouse" version)"
want="gatehouse $version (commit $commit, built $date)"
[ "$got" = "$want" ] || fail "built binary says '$got', want '$want'"
if ! cmp -s "$work/docker/gatehouse" "$work/make/gatehouse"; then
  fail "the binaries of the Dockerfile's command and of 'make build' differ"
fi
echo "dockerfile-build-check: ok (same command as 'make build', $got, identical binaries)"
