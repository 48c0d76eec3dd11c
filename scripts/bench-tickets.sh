#!/usr/bin/env bash
# SmartQueue benchmark: 50 agents calling the next ticket of one queue at once, tickets taken at
# the desk, ticket status reads, on SQLite and on PostgreSQL, against one release `accueil`
# each. The client is crates/server/benches/tickets.rs (it starts and stops its own servers; see
# its documentation for what is measured and how every ticket is checked to be called once).
#
#   bash scripts/bench-tickets.sh                  builds target/release/accueil and the client
#   BACKENDS=sqlite TICKETS=5000 bash scripts/bench-tickets.sh
#   BIN=path/to/accueil bash scripts/bench-tickets.sh   a prebuilt server binary
#
# PostgreSQL is the local cluster (scripts/ensure-postgres.sh starts it when it is down); the
# server connects as an ordinary role, under row-level security. Client and server share the
# machine's cores. docs/performance.md keeps the figures of record.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ " ${BACKENDS:-sqlite postgres} " == *" postgres "* ]]; then
  bash scripts/ensure-postgres.sh
fi
if [ -z "${BIN:-}" ]; then
  cargo build --release --locked -p accueil-server --bin accueil --quiet
  BIN="$PWD/target/release/accueil"
fi
ACCUEIL_BIN="$BIN" cargo bench --locked -p accueil-server --bench tickets --quiet
