#!/usr/bin/env bash
# The one command that runs every check: formatting, lints and all tests.
# It installs what the tests need (Python virtual environment with moto, Chromium)
# and starts the services they use, then stops them again.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings

# submit-fn's DynamoDB contract tests talk to moto on a free loopback port.
source scripts/moto.sh
trap moto_stop EXIT

echo "== cargo test"
cargo test --all
