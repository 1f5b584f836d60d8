#!/usr/bin/env bash
# Starts moto in server mode (a DynamoDB-protocol server) on a free loopback port for the
# submit-fn contract tests. Installs moto into .venv on first use.
#
# Usage: source scripts/moto.sh   (then BUURTBORD_TEST_DYNAMODB_ENDPOINT is exported and
#        moto_stop is a function; scripts/test.sh calls it from its exit trap)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo_root/.venv"

if [[ ! -x "$venv/bin/moto_server" ]]; then
    echo "== installing moto into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]'
fi

# Ask the kernel for a free port rather than guessing one.
moto_port="$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
moto_log="$(mktemp -t moto.XXXXXX.log)"
"$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$moto_log" 2>&1 &
moto_pid=$!

moto_stop() {
    if [[ -n "${moto_pid:-}" ]] && kill -0 "$moto_pid" 2>/dev/null; then
        kill "$moto_pid" 2>/dev/null || true
        wait "$moto_pid" 2>/dev/null || true
    fi
    rm -f "$moto_log"
}

for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$moto_port/moto-api/')" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$moto_pid" 2>/dev/null; then
        echo "moto_server exited; its log:" >&2
        cat "$moto_log" >&2
        exit 1
    fi
    sleep 0.1
done

export BUURTBORD_TEST_DYNAMODB_ENDPOINT="http://127.0.0.1:$moto_port"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
export AWS_REGION="${AWS_REGION:-eu-west-1}"
echo "== moto on $BUURTBORD_TEST_DYNAMODB_ENDPOINT (pid $moto_pid)"
