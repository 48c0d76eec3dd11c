#!/usr/bin/env bash
# Realtime benchmark: SOCKETS WebSocket connections on one release `accueil`, events fanned out
# to them; the server's memory per socket and the delivery latency (p50, p99, max). The client
# is crates/server/benches/ws_fanout.rs (it starts and stops its own server on SQLite in a
# temporary directory; see its documentation for the two scenarios and what is measured).
#
#   bash scripts/bench-ws.sh                   builds target/release/accueil and the client, runs
#   SOCKETS=2000 EVENTS=500 bash scripts/bench-ws.sh
#   BIN=path/to/accueil bash scripts/bench-ws.sh   a prebuilt server binary
#
# Client and server share the machine: on two vCPUs the client's 1,000 reading tasks compete
# with the server for the cores, which the latencies include. Results go to stdout as a
# Markdown table (docs/performance.md keeps the figures of record).
set -euo pipefail
cd "$(dirname "$0")/.."

SOCKETS="${SOCKETS:-1000}"
EVENTS="${EVENTS:-200}"
[[ "$SOCKETS" =~ ^[1-9][0-9]*$ && "$EVENTS" =~ ^[1-9][0-9]*$ ]] || {
  echo "bench-ws: SOCKETS and EVENTS must be positive numbers" >&2; exit 1; }

# Each socket is a file descriptor on both sides, and the users' pairs open as many again.
need=$(( 2 * SOCKETS + 256 ))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  ulimit -n "$need" 2>/dev/null || {
    echo "bench-ws: the file limit ($(ulimit -n)) is below $need and cannot be raised" >&2; exit 1; }
fi

if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -p accueil-server --bin accueil --quiet
  BIN="$PWD/target/release/accueil"
fi
ACCUEIL_BIN="$BIN" SOCKETS="$SOCKETS" EVENTS="$EVENTS" \
  cargo bench --locked -p accueil-server --bench ws_fanout --quiet
