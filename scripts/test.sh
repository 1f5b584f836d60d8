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

# The YAML 1.1 check of written front matter (C05) reads it back with PyYAML; the SMTP
# test sends to a real SMTP server, aiosmtpd.
if ! .venv/bin/python -c 'import yaml, aiosmtpd' 2>/dev/null; then
    .venv/bin/pip install --quiet --disable-pip-version-check pyyaml aiosmtpd
fi
export BUURTBORD_TEST_PYTHON="$PWD/.venv/bin/python"

echo "== cargo test"
cargo test --all
