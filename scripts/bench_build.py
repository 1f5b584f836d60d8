#!/usr/bin/env python3
"""Benchmark of `buurtbord build` as a whole process (not a test).

Generates N synthetic posts in buurtbord's content format (N = 1,000, 10,000 and
100,000 by default), builds each set with the release binary, and reports wall time,
CPU time, peak memory (max RSS), files and bytes written. Usage:

    cargo build --release && python3 scripts/bench_build.py [N ...]

Results go to stdout as a Markdown table; copy it into BENCHMARKS.md.
"""

import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "buurtbord")
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


def run_build(content, out):
    env = dict(os.environ, BUURTBORD_NOW="2026-12-03T12:00:00+01:00", RUST_LOG="warn")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [BINARY, "build", "--content", content, "--theme", os.path.join(ROOT, "themes", "default"),
         "--out", out], env=env, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    stderr = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"build failed:\n{stderr}")
    files = 0
    size = 0
    for dirpath, _, names in os.walk(out):
        for name in names:
            files += 1
            size += os.path.getsize(os.path.join(dirpath, name))
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, files, size


def main():
    if not os.path.exists(BINARY):
        sys.exit("build the release binary first: cargo build --release")
    sizes = [int(a) for a in sys.argv[1:]] or [1000, 10000, 100000]
    print(f"machine: {os.cpu_count()} cores; binary: {BINARY}")
    print("| posts | wall (s) | CPU (s) | peak memory (MiB) | files | MiB written |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="buurtbord-bench-") as tmp:
            content = os.path.join(tmp, "content")
            os.makedirs(content)
            write_content(content, n)
            out = os.path.join(tmp, "public")
            run_build(content, out)  # warm the page cache; the second run is measured
            wall, cpu, rss, files, size = run_build(content, out)
            print(f"| {n:,} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {files:,} | {size / 2**20:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
