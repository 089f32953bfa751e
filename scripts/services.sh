#!/usr/bin/env bash
# Make sure PostgreSQL and Redis run on 127.0.0.1 for the integration tests:
# install them with apt when missing, start them when stopped, wait until
# ready. Prints the URLs to use. Fails (exit 1) when they cannot be brought up:
# the integration tests never skip silently.
set -euo pipefail

log() { echo "services: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; }
redis_ready() { command -v redis-cli >/dev/null 2>&1 && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >&2
}

if ! pg_ready; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing PostgreSQL"
    apt_install postgresql
  fi
  ver="$(ls /etc/postgresql | sort -V | tail -n1)"
  hba="/etc/postgresql/$ver/main/pg_hba.conf"
  # Tests connect as postgres over TCP without a password.
  if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  log "starting PostgreSQL $ver"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main reload || true
fi
if ! redis_ready; then
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing Redis"
    apt_install redis-server
  fi
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >&2
fi

for i in $(seq 1 60); do
  if pg_ready && redis_ready; then break; fi
  sleep 0.5
done
pg_ready || { log "PostgreSQL is not ready on 127.0.0.1:5432"; exit 1; }
redis_ready || { log "Redis is not ready on 127.0.0.1:6379"; exit 1; }
# The database the tests create their own databases from.
if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -d postgres -c 'create database test' >/dev/null
fi
echo "GATEHOUSE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
echo "GATEHOUSE_TEST_REDIS_URL=redis://127.0.0.1:6379/0"
