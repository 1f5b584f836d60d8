#!/usr/bin/env python3
"""Benchmark of the Lambda binary's init (not a test): the time from starting
`submit-fn-lambda` until it asks the Runtime API for its first event.

A fake Runtime API on loopback answers nothing but records when the first
`GET /2018-06-01/runtime/invocation/next` arrives; the time is measured from just before
the process is spawned, so fork and exec are counted too. One unrecorded start warms the
page cache, then R starts (default 20) are measured. Usage:

    cargo build --release -p submit-fn --bin submit-fn-lambda
    python3 scripts/bench_lambda_init.py [R]

The binary is $LAMBDA_BINARY, else $CARGO_TARGET_DIR/release/submit-fn-lambda, else
target/release/submit-fn-lambda. The environment is the one src/bin/lambda.rs documents,
with throwaway secrets and the sample content; no DynamoDB is reachable, so a start that
called DynamoDB before asking for an event would fail or show here as slow.
"""

import base64
import http.server
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_DIR = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
if not os.path.isabs(TARGET_DIR):
    TARGET_DIR = os.path.join(ROOT, TARGET_DIR)
BINARY = os.environ.get("LAMBDA_BINARY") or os.path.join(TARGET_DIR, "release", "submit-fn-lambda")
NEXT_PATH = "/2018-06-01/runtime/invocation/next"
TIMEOUT_S = 10


class RuntimeApi(http.server.ThreadingHTTPServer):
    """Records the arrival of the first request for an event, and never answers it."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), NextHandler)
        self.first_next = None
        self.arrived = threading.Event()
        self.release = threading.Event()


class NextHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == NEXT_PATH and not self.server.arrived.is_set():
            self.server.first_next = time.perf_counter()
            self.server.arrived.set()
        # Hold the long poll open, as the real Runtime API does while no event waits.
        self.server.release.wait(TIMEOUT_S)

    def log_message(self, *args):
        pass


def environment(port):
    key = lambda: base64.b64encode(secrets.token_bytes(32)).decode()
    return dict(
        os.environ,
        AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}",
        AWS_LAMBDA_FUNCTION_NAME="buurtbord-submit",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/buurtbord-submit",
        AWS_LAMBDA_LOG_STREAM_NAME="bench",
        AWS_REGION="eu-west-1",
        # Lambda gives every function temporary credentials in these variables; these are
        # placeholders that nothing accepts.
        AWS_ACCESS_KEY_ID="AKIDBENCHMARKONLY",
        AWS_SECRET_ACCESS_KEY="benchmark-only",
        AWS_SESSION_TOKEN="benchmark-only",
        BUURTBORD_TABLE="buurtbord-bench",
        # The publisher opens on the first approval, so these are never reached at init.
        BUURTBORD_CONTENT_BUCKET="buurtbord-bench-content",
        BUURTBORD_SITE_BUCKET="buurtbord-bench-site",
        BUURTBORD_SITE_YAML=os.path.join(ROOT, "content", "site.yaml"),
        BUURTBORD_CONTENT_DIR=os.path.join(ROOT, "content"),
        BUURTBORD_THEME_DIR=os.path.join(ROOT, "themes", "default"),
        BUURTBORD_FORM_KEY=key(),
        BUURTBORD_IP_SALT=key(),
        BUURTBORD_COOKIE_KEY=base64.b64encode(secrets.token_bytes(64)).decode(),
        AWS_LAMBDA_LOG_LEVEL="info",
    )


def one_start():
    """Seconds from spawning the binary to its first request for an event."""
    api = RuntimeApi()
    serving = threading.Thread(target=api.serve_forever, daemon=True)
    serving.start()
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        proc = subprocess.Popen([BINARY], env=environment(api.server_address[1]),
                                stdout=output, stderr=subprocess.STDOUT, cwd=ROOT)
        arrived = api.arrived.wait(TIMEOUT_S)
        exited = proc.poll()
        proc.kill()
        proc.wait()
        api.release.set()
        api.shutdown()
        api.server_close()
        if not arrived:
            output.seek(0)
            log = output.read().decode(errors="replace")
            state = f"exited with {exited}" if exited is not None else f"silent for {TIMEOUT_S} s"
            sys.exit(f"{BINARY} {state} before asking for an event; its output:\n{log}")
    return api.first_next - start


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} is missing: cargo build --release -p submit-fn --bin submit-fn-lambda")
    one_start()
    times = sorted(one_start() * 1000 for _ in range(runs))
    print(f"binary: {BINARY}; {runs} starts after one warm-up")
    print("| starts | min (ms) | median (ms) | max (ms) |")
    print("|---:|---:|---:|---:|")
    print(f"| {runs} | {times[0]:.1f} | {statistics.median(times):.1f} | {times[-1]:.1f} |")


if __name__ == "__main__":
    main()
