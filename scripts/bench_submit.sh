#!/usr/bin/env bash
# Benchmark of the submission endpoint (not a test): starts a release `buurtbord serve` on a
# free loopback port with SQLite, on a copy of the sample content in a temporary folder,
# runs the load generator (submit-fn/examples/load.rs) against it as a second process,
# stops the server and prints the numbers, the server's CPU time and the queue's row count.
#
#   CARGO_TARGET_DIR=target/bench cargo build --release -p buurtbord -p submit-fn --example load
#   CARGO_TARGET_DIR=target/bench scripts/bench_submit.sh [TOTAL] [CONCURRENCY]
#
# Binaries: $BUURTBORD_BINARY and $LOAD_BINARY, else $CARGO_TARGET_DIR/release/…, else
# target/release/…. TOTAL defaults to 20000, CONCURRENCY to 32; $LOAD_THREADS (default 1)
# sets the load generator's worker threads. The rate limit is raised with
# BUURTBORD_POSTS_PER_HOUR because every post comes from 127.0.0.1.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
server_bin="${BUURTBORD_BINARY:-$target/release/buurtbord}"
load_bin="${LOAD_BINARY:-$target/release/examples/load}"
total="${1:-20000}"
concurrency="${2:-32}"

for bin in "$server_bin" "$load_bin"; do
    if [[ ! -x "$bin" ]]; then
        echo "$bin is missing; build it with:" >&2
        echo "  cargo build --release -p buurtbord -p submit-fn --example load" >&2
        exit 1
    fi
done

work="$(mktemp -d -t buurtbord-bench-submit.XXXXXX)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid"
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

cp -r "$root/content" "$work/content"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

BUURTBORD_POSTS_PER_HOUR=1000000 "$server_bin" serve --port "$port" \
    --content "$work/content" --theme "$root/themes/default" \
    --out "$work/public" --data "$work/data" 2>"$work/serve.log" &
server_pid=$!

# Ready when the form answers; the first site build happens before the port serves.
for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/plaatsen" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "buurtbord serve stopped; its log:" >&2
        cat "$work/serve.log" >&2
        exit 1
    fi
    sleep 0.1
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "server: $server_bin serve --port $port (SQLite in $work/data)"
"$load_bin" --url "http://127.0.0.1:$port" --total "$total" --concurrency "$concurrency" \
    --threads "${LOAD_THREADS:-1}" --db "$work/data/queue.sqlite3" --server-pid "$server_pid"

kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
if command -v sqlite3 >/dev/null; then
    echo "queue rows by sqlite3: $(sqlite3 "$work/data/queue.sqlite3" 'SELECT COUNT(*) FROM submissions')"
fi
