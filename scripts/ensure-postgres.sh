#!/usr/bin/env bash
# Makes sure the PostgreSQL that the tests use answers. With TEST_DATABASE_URL pointing
# elsewhere it only waits for that server; for the machine's own server it starts the cluster
# when it is down (Debian's pg_ctlcluster), then waits up to 30 seconds.
set -euo pipefail

url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

ready() { pg_isready -q -d "$url" 2>/dev/null; }

if ready; then
  exit 0
fi
case "$url" in
  *@127.0.0.1:5432/*|*@localhost:5432/*|*@127.0.0.1/*|*@localhost/*)
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      for version in $(ls /etc/postgresql); do
        echo "ensure-postgres: starting PostgreSQL $version"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
      done
    fi
    ;;
esac
for _ in $(seq 1 30); do
  if ready; then
    exit 0
  fi
  sleep 1
done
echo "ensure-postgres: no PostgreSQL answers at $url" >&2
exit 1
