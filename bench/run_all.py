"""Run the benchmark scripts one after another, each bounded in requests and time (`make bench`).

    .venv/bin/python bench/run_all.py [--quick] [--only NAME ...]

Every script binds 127.0.0.1 only and stops the servers it starts. Each run is also bounded
from outside (a wall-clock timeout per script). Exit status: 0 when every script succeeded.
Screenshots run only where Chromium is installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Bench:
    name: str
    script: str
    args: tuple[str, ...]
    quick_args: tuple[str, ...]
    timeout_s: float
    needs: str | None = None  # an executable without which the script is not run


BENCHES = (
    Bench(
        "resources",
        "resources_rps.py",
        ("--requests", "4000", "--seconds", "10"),
        ("--requests", "500", "--seconds", "2"),
        timeout_s=300,
    ),
    Bench(
        "sparql",
        "sparql_vs_oxigraph.py",
        ("--triples", "100000", "--requests", "3000", "--seconds", "15"),
        ("--triples", "10000", "--requests", "200", "--seconds", "2"),
        timeout_s=900,
    ),
    Bench(
        "search",
        "search_latency.py",
        ("--docs", "10000", "--queries", "1000"),
        ("--docs", "50", "--queries", "200"),
        timeout_s=3600,
    ),
    Bench(
        "search-update",
        "search_index_update.py",
        ("--docs", "10000"),
        ("--docs", "30"),
        timeout_s=3600,
    ),
    Bench(
        "build",
        "build_scale.py",
        ("--triples", "1000000", "--docs", "1000,10000"),
        ("--triples", "20000", "--docs", "3"),
        timeout_s=3600,
    ),
    Bench("screenshots", "screenshots.py", (), (), timeout_s=300, needs="chromium"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small runs (a smoke test)")
    parser.add_argument("--only", nargs="*", choices=[b.name for b in BENCHES])
    args = parser.parse_args(argv)
    failed = []
    for bench in BENCHES:
        if args.only and bench.name not in args.only:
            continue
        if bench.needs and shutil.which(bench.needs) is None:
            print(f"== {bench.name}: skipped ({bench.needs} is not installed)", flush=True)
            continue
        command = [sys.executable, str(HERE / bench.script)]
        command += bench.quick_args if args.quick else bench.args
        print(f"== {bench.name}: {' '.join(command[1:])}", flush=True)
        started = time.monotonic()
        # Its own process group, so a timeout stops the script and what it started with it.
        process = subprocess.Popen(command, cwd=HERE.parent, start_new_session=True)
        try:
            status: int | str = process.wait(timeout=bench.timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)  # the script's cleanup stops its servers
            process.wait(timeout=30)
            status = f"timed out after {bench.timeout_s:.0f} s"
        print(f"== {bench.name}: exit {status} in {time.monotonic() - started:.1f} s", flush=True)
        if status != 0:
            failed.append(bench.name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
