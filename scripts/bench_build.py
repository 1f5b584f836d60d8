#!/usr/bin/env python3
"""Benchmark of `buurtbord build` as a whole process (not a test).

Generates N synthetic posts in buurtbord's content format (N = 1,000, 10,000 and
100,000 by default), builds each set with the release binary, and reports wall time,
CPU time (user + system of the build process), peak memory (the build process's max
RSS, from wait4), files and bytes written. Usage:

    cargo build --release -p buurtbord && python3 scripts/bench_build.py [--runs R] [N ...]

The binary is $BUURTBORD_BINARY, else $CARGO_TARGET_DIR/release/buurtbord, else
target/release/buurtbord. Each size is built once to warm the page cache, then R times
(default 3) into a fresh, empty output folder; the table shows the median wall and CPU
time and the highest peak memory of those R runs. Results go to stdout as a Markdown
table; copy it into BENCHMARKS.md.

Then, as a second row per size, the same site is rebuilt R times into one output folder
with 1% of the posts edited before each rebuild (the everyday case: a site that is already
online gets a new build), after two uncounted builds so that the kept previous site
(`.<out>.previous`) exists, as it does on a running site.

Every output folder is kept until all sizes are done and only then removed. On an ext4
file system without a journal (as on the shared build machine) the kernel skips inodes
freed in the last few minutes with a linear scan for every new file, so removing the
previous run's 280,000 files and folders right before the next run made that run spend
most of its time in the kernel, measuring the benchmark's own clean-up instead of the
build. With --delete-between the old behaviour (remove each output before the next run)
comes back, to see that effect.
"""

import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_DIR = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
BINARY = os.environ.get("BUURTBORD_BINARY") or os.path.join(TARGET_DIR, "release", "buurtbord")
WORDS = ("boodschappen hulp buurvrouw dinsdag ziekenhuis wandelen computer formulier tuin "
         "maaltijd samen graag week koffie fiets lamp ophangen brengen halen rustig").split()


def write_content(folder, n, seed=7):
    rng = random.Random(seed)
    shutil.copy(os.path.join(ROOT, "content", "site.yaml"), os.path.join(folder, "site.yaml"))
    shutil.copytree(os.path.join(ROOT, "content", "pages"), os.path.join(folder, "pages"))
    posts = os.path.join(folder, "posts")
    os.makedirs(posts)
    municipalities = ["huizen", "blaricum", "laren", "eemnes", "gooise-meren", "hilversum", "wijdemeren"]
    categories = ["boodschappen", "vervoer", "klussen", "gezelschap", "computer", "papierwerk", "maaltijd", "tuin"]
    for i in range(n):
        title = " ".join(rng.choice(WORDS) for _ in range(6)).capitalize()
        body = "\n\n".join(
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(15, 40))).capitalize() + "."
            for _ in range(rng.randint(1, 4)))
        day = 1 + i % 28
        with open(os.path.join(posts, f"P{i:07d}.md"), "w", encoding="utf-8") as f:
            f.write(
                "---\n"
                f'id: "P{i:07d}"\n'
                f'slug: "bericht-{i}"\n'
                f'title: "{title}"\n'
                f"kind: {rng.choice(['request', 'offer'])}\n"
                f"category: {rng.choice(categories)}\n"
                f"municipality: {rng.choice(municipalities)}\n"
                f"recurring: {rng.choice(['true', 'false'])}\n"
                f'date: "2026-11-{day:02d}T{i % 24:02d}:{i % 60:02d}:00+01:00"\n'
                f'expires: "2027-06-30"\n'
                f'display_name: "Buur {i}"\n'
                "---\n" + body + "\n")


def run_build(content, out, expected_posts):
    """One build as a child process; returns wall s, CPU s, max RSS MiB, files, bytes."""
    env = dict(os.environ, BUURTBORD_NOW="2026-12-03T12:00:00+01:00", RUST_LOG="warn")
    # stderr goes to a file: a pipe nobody reads while the child runs could fill and block it.
    with tempfile.TemporaryFile() as stderr_file:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [BINARY, "build", "--content", content,
             "--theme", os.path.join(ROOT, "themes", "default"), "--out", out],
            env=env, stderr=stderr_file)
        # wait4 reports the resources of this child alone, not of Python.
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr_file.seek(0)
        stderr = stderr_file.read().decode()
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{stderr}")
    built = re.search(r"built (\d+) posts", stderr)
    if not built or int(built.group(1)) != expected_posts:
        sys.exit(f"expected {expected_posts} posts to be built, the build said:\n{stderr}")
    files = 0
    size = 0
    for dirpath, _, names in os.walk(out):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(dirpath, name))
    # On Linux ru_maxrss is in KiB.
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, files, size


def main():
    args = sys.argv[1:]
    runs = 3
    delete_between = False
    while args[:1] in (["--runs"], ["--delete-between"]):
        if args[0] == "--runs":
            runs, args = int(args[1]), args[2:]
        else:
            delete_between, args = True, args[1:]
    if not os.path.exists(BINARY):
        sys.exit(f"{BINARY} is missing: build it first with cargo build --release -p buurtbord")
    sizes = [int(a) for a in args] or [1000, 10000, 100000]
    print(f"machine: {os.cpu_count()} cores; binary: {BINARY}; median of {runs} runs")
    print("| posts | output folder | wall (s) | CPU (s) | peak memory (MiB) | files | MiB in site |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="buurtbord-bench-") as top:
        for n in sizes:
            bench_size(os.path.join(top, str(n)), n, runs, delete_between)


def bench_size(tmp, n, runs, delete_between):
    """Builds n posts 1 + runs times and prints the table's row."""
    content = os.path.join(tmp, "content")
    os.makedirs(content)
    write_content(content, n)
    # The first build warms the page cache and is not counted.
    run_build(content, os.path.join(tmp, "warm"), n)
    if delete_between:
        shutil.rmtree(os.path.join(tmp, "warm"))
    results = []
    for run in range(runs):
        out = os.path.join(tmp, f"public-{run}")
        results.append(run_build(content, out, n))
        if delete_between:
            shutil.rmtree(out)
    print_row(n, "new, empty", results)

    # Rebuilds of a site that is online: the output folder and the kept previous site exist.
    out = os.path.join(tmp, "rebuilt")
    run_build(content, out, n)
    run_build(content, out, n)
    results = []
    for run in range(runs):
        edit_posts(content, n, run)
        results.append(run_build(content, out, n))
    print_row(n, "rebuilt, 1% of posts edited", results)


def edit_posts(content, n, run):
    """Appends a sentence to every hundredth post (a different hundredth each run)."""
    for i in range(run, n, 100):
        with open(os.path.join(content, "posts", f"P{i:07d}.md"), "a", encoding="utf-8") as f:
            f.write(f"\nAangepast in ronde {run}.\n")


def print_row(n, mode, results):
    wall = statistics.median(r[0] for r in results)
    cpu = statistics.median(r[1] for r in results)
    rss = max(r[2] for r in results)
    files, size = results[-1][3], results[-1][4]
    print(f"| {n:,} | {mode} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {files:,} | "
          f"{size / 2**20:.1f} |", flush=True)


if __name__ == "__main__":
    main()
