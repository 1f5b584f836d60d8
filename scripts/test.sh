#!/usr/bin/env bash
# The one command that runs every check: formatting, lints and all tests.
# It installs what the tests need (Python virtual environment with moto, the browser
# tests' npm packages) and starts the services they use, then stops them again.
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

# The AWS template must pass cfn-lint with no error and no warning.
if [[ ! -x .venv/bin/cfn-lint ]]; then
    .venv/bin/pip install --quiet --disable-pip-version-check cfn-lint
fi
echo "== cfn-lint deploy/template.yaml"
.venv/bin/cfn-lint deploy/template.yaml

echo "== cargo test"
cargo test --all

# The browser checks (tests/e2e): the resident, moderator, neighbour and poster journey in
# headless Chromium, axe-core's WCAG 2.1 A/AA rules and screenshots on every page type, and
# the Nu Html Checker on every generated and served page. They need Chromium, Java and
# Node 20 or newer (.ci/run installs them); a missing one stops the run, never skips it.
echo "== browser journey, accessibility and HTML (tests/e2e)"
for tool in chromium java node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: '$tool' is not installed; the browser checks need it (see README, Requirements)" >&2
        exit 1
    fi
done
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
    echo "error: node $(node --version) is too old; the browser checks need Node 20 or newer" >&2
    exit 1
fi
# --ignore-scripts: vnu-jar's install script would download a Java runtime; ours is used.
(cd tests/e2e && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
CHROMIUM="$(command -v chromium)" node tests/e2e/run.mjs
