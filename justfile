# Shortcuts; each recipe is one plain command, so nothing requires `just`.

# Run the server (SQLite under ./data).
run:
    cargo run --release

# Run the tests.
test:
    cargo test --workspace

# What CI runs (PostgreSQL required).
ci:
    bash .ci/run

# The dependency rule alone.
deps:
    python3 scripts/check-deps.py

# The OpenAPI document against a fresh server (schemathesis, every check; see the script).
schemathesis:
    bash scripts/schemathesis.sh

# Load benchmark against a release build; figures go to docs/performance.md by hand.
bench:
    bash scripts/bench.sh

# SmartQueue: call-next with 50 agents, takes and reads, on SQLite and PostgreSQL.
bench-tickets:
    bash scripts/bench-tickets.sh

# Before/after: two prebuilt binaries measured alternately (see scripts/bench.sh).
bench-compare old new:
    OLD={{old}} NEW={{new}} bash scripts/bench.sh
