#!/usr/bin/env bash
# Load benchmark of a release build on loopback (wrk, installed from Debian if missing).
#
#   scripts/bench.sh                  SQLite in a temporary data directory
#   DATABASE_URL=postgres://... scripts/bench.sh   the same against PostgreSQL
#   DURATION=30s CONNS=32 scripts/bench.sh
#
# Measures GET /health and GET /api/v1/auth/me (JWT check plus user and session look-ups) at
# CONNS connections, then logins/s next to the machine's bcrypt ceiling: cores / the time of
# one login measured alone (one connection), which is one bcrypt verification plus a small
# write. The server logs at info level to a file, as in production; login rate limits are
# lifted (they would answer 429 within a second). Bounded in time; it stops the server on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-15s}"
CONNS="${CONNS:-32}"
COST="${ACCUEIL_BCRYPT_COST:-12}"

if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing wrk"
  (apt-get install -y -qq wrk >/dev/null 2>&1) || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
fi

cargo build --release --quiet --bin accueil

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
secret="bench-$(head -c 32 /dev/urandom | base64 | tr -d '/+=' | head -c 40)"

ACCUEIL_DATA_DIR="$work" ACCUEIL_BIND="127.0.0.1:$port" ACCUEIL_JWT_SECRET="$secret" \
ACCUEIL_BCRYPT_COST="$COST" RUST_LOG="${RUST_LOG:-info}" \
ACCUEIL_RATE_LOGIN_IP=1000000000/1s ACCUEIL_RATE_LOGIN_ACCOUNT=1000000000/1s \
  target/release/accueil serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 1 100); do
  curl -fsS "$base/health" >/dev/null 2>&1 && break
  sleep 0.1
done

email="bench-$port@example.org"
password="correct horse battery staple"
curl -fsS -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" >/dev/null
token="$(curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"login\":\"$email\",\"password\":\"$password\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

cat >"$work/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"login":"$email","password":"$password"}'
LUA

summary() { # label, wrk output file
  local rps p50 p99
  rps="$(awk '/Requests\/sec/ {print $2}' "$2")"
  p50="$(awk '$1=="50%" {print $2}' "$2")"
  p99="$(awk '$1=="99%" {print $2}' "$2")"
  printf '%-34s %10s req/s   p50 %8s   p99 %8s\n' "$1" "$rps" "$p50" "$p99"
}

echo "machine: $(nproc) cores; $(uname -sr); database: ${DATABASE_URL:-sqlite (temporary)}; bcrypt cost $COST"
wrk -t2 -c"$CONNS" -d"$DURATION" --latency "$base/health" >"$work/health.txt"
wrk -t2 -c"$CONNS" -d"$DURATION" --latency -H "Authorization: Bearer $token" "$base/api/v1/auth/me" >"$work/me.txt"
wrk -t1 -c1 -d10s --latency -s "$work/login.lua" "$base/api/v1/auth/login" >"$work/login1.txt"
wrk -t2 -c8 -d"$DURATION" --latency -s "$work/login.lua" "$base/api/v1/auth/login" >"$work/login8.txt"

errors="$(grep -h -E 'Non-2xx|Socket errors' "$work"/*.txt || true)"
echo
summary "GET /health ($CONNS conns)" "$work/health.txt"
summary "GET /api/v1/auth/me ($CONNS conns)" "$work/me.txt"
summary "POST /api/v1/auth/login (1 conn)" "$work/login1.txt"
summary "POST /api/v1/auth/login (8 conns)" "$work/login8.txt"
one="$(awk '/Requests\/sec/ {print $2}' "$work/login1.txt")"
python3 - "$one" "$(nproc)" "$(awk '/Requests\/sec/ {print $2}' "$work/login8.txt")" <<'PY'
import sys
one, cores, many = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
hash_ms = 1000.0 / one
print(f"one login alone: {hash_ms:.0f} ms -> bcrypt ceiling {cores} cores / {hash_ms:.0f} ms = {cores * one:.2f} logins/s; measured {many:.2f} logins/s ({100 * many / (cores * one):.0f}% of the ceiling)")
PY
if [ -n "$errors" ]; then
  echo "wrk reported: $errors"
fi
