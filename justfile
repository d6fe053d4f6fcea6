# factus-api recipes. `just` alone lists them.

default:
    @just --list

# Run the service on the embedded default (SQLite) with the in-process Factus simulator.
run *ARGS:
    cargo run --release -- --simulate-factus {{ARGS}}

# Run the whole test suite (the README's test command).
test:
    cargo test --workspace

# Formatting, lints and the dependency rule, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    scripts/check-architecture.sh
    scripts/test-check-architecture.sh
    cargo machete --skip-target-dir

# Format the code.
fmt:
    cargo fmt --all

# Start Postgres 15 in Docker for a deployment-like setup.
db-up:
    docker compose up -d postgres

# Run the Factus simulator on 127.0.0.1:9000.
sandbox *ARGS:
    cargo run --release -p factus-sandbox -- --bind 127.0.0.1:9000 {{ARGS}}

# Run the benchmarks and print the figures (see docs/benchmarks.md).
bench:
    cargo bench -p factus-server
    scripts/bench-sandbox.sh

# CI, exactly.
ci:
    bash .ci/run
