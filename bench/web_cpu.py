"""CPU per request of the web tier, by process role, for settings side by side (issue 10).

    .venv/bin/python bench/web_cpu.py [--triples 20000] [--seconds 3] [--rounds 3]
        [--variant NAME:SETTING=VALUE,...]...

On a shared machine req/s move with the neighbours' load; the CPU a server spends per request
moves much less, and it is what bounds req/s when the cores are busy. For each variant (a
`publisher serve` with `--web-workers` processes (1) and some settings or GRANIAN_* variables; the first variant is the baseline,
default: the settings' defaults) and each load, wrk runs `--seconds` with 4 connections, and
the user+system CPU of the server's processes (/proc) is divided by the requests answered:
the web process (granian and the app) and the query workers. The variants are measured in
turns, `--rounds` times, and the median is printed, so a burst of load on the machine hits
every variant alike.

Loads: a point lookup with a random entity per request (fresh: no cache helps), the same
lookup URL again and again (replayed), /doc/ Turtle of a random entity among the first `--docs`
(rendered once, during the warm-up, then served as kept).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from corpus import TRIPLES_PER_ENTITY  # noqa: E402
from machine import describe  # noqa: E402
from support import stop_process_group  # noqa: E402
from web_speed import (  # noqa: E402
    BASE,
    LABEL,
    build_toy_dist,
    free_port,
    random_path_script,
    wait_up,
    wrk,
)

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    found = [pid]
    # Per thread: a worker process is started by whichever thread needed it.
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found += tree(int(child))
    return found


def roles(root: int) -> dict[str, list[int]]:
    """The web process(es) and the query workers (`publisher.store.query_worker`)."""
    out: dict[str, list[int]] = {"web": [], "workers": []}
    for pid in tree(root):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        out["workers" if b"query_worker" in command else "web"].append(pid)
    return out


def usage(root: int) -> dict[str, float]:
    totals = {}
    for role, pids in roles(root).items():
        total = 0.0
        for pid in pids:
            with contextlib.suppress(OSError):  # a worker replaced meanwhile
                total += cpu_seconds(pid)
        totals[role] = total
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--web-workers", type=int, default=1, help="web processes per server")
    parser.add_argument("--docs", type=int, default=300, help="entities whose /doc/ is asked")
    parser.add_argument("--variant", action="append", default=[], help="NAME:SETTING=VALUE,...")
    options = parser.parse_args()
    variants: dict[str, dict[str, str]] = {}
    for spec in options.variant or ["defaults:"]:
        name, _, assignments = spec.partition(":")
        variants[name] = dict(a.split("=", 1) for a in assignments.split(",") if a)

    print("date:", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    print("machine:", describe())
    work = Path(tempfile.mkdtemp(prefix="web-cpu-"))
    servers: dict[str, tuple[subprocess.Popen, int]] = {}
    try:
        build_toy_dist(work, triples=options.triples)
        entities = -(-options.triples // TRIPLES_PER_ENTITY)
        for name, settings in variants.items():
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
            env["PUBLISHER_CACHE_DIR"] = str(work / f"cache-{name}")
            # Settings by name; GRANIAN_* (granian's own options), PYTHONPATH (an older tree) as they are.
            env.update(
                {k if k.startswith(("GRANIAN_", "PYTHONPATH")) else f"PUBLISHER_{k.upper()}": v
                 for k, v in settings.items()}
            )  # fmt: skip
            with (work / f"{name}.log").open("wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "publisher", "serve", "--dist", str(work / "dist"),
                     "--host", "127.0.0.1", "--port", str(port),
                     "--workers", str(options.web_workers)],
                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            servers[name] = (process, port)
        for _, port in servers.values():
            wait_up(f"http://127.0.0.1:{port}/robots.txt")

        lookup = f"SELECT ?label WHERE {{ <{BASE}id/entity/" + "{}" + f"> <{LABEL}> ?label }}"
        before, after = (quote(part, safe="") for part in lookup.split("{}"))
        repeated = "/sparql?query=" + quote(lookup.replace("{}", "7"), safe="")
        loads = {
            "fresh lookup": ("/sparql", "application/sparql-results+json",
                             random_path_script(f"/sparql?query={before}", after, entities)),
            "repeated lookup": (repeated, "application/sparql-results+json", None),
            "/doc/ Turtle": ("/doc/entity/0.ttl", "text/turtle",
                             random_path_script("/doc/entity/", ".ttl", min(options.docs, entities))),
        }  # fmt: skip
        figures: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        for _, port in servers.values():  # warm: pools, the /doc/ renders, the replays
            for path, accept, script in loads.values():
                wrk(f"http://127.0.0.1:{port}{path}", seconds=2, clients=4, accept=accept,
                    script=script)  # fmt: skip
        for _ in range(options.rounds):
            for load, (path, accept, script) in loads.items():
                for name, (process, port) in servers.items():
                    start = usage(process.pid)
                    result = wrk(f"http://127.0.0.1:{port}{path}", seconds=options.seconds,
                                 clients=4, accept=accept, script=script)  # fmt: skip
                    end = usage(process.pid)
                    done = result["rps"] * options.seconds
                    per = {r: (end[r] - start.get(r, 0)) / max(done, 1) * 1e6 for r in end}
                    figures.setdefault((load, name), []).append(
                        (result["rps"], per["web"], per["workers"])
                    )
        print(f"\nvariants: {variants}; {options.web_workers} web process(es), wrk 4 connections, "
              f"{options.seconds:.0f} s x {options.rounds} rounds (median)\n")  # fmt: skip
        print(f"{'load':16} {'variant':12} {'req/s':>8} {'web µs/req':>11} {'workers µs/req':>15}")
        for (load, name), rows in figures.items():
            rps, web, workers = (statistics.median(column) for column in zip(*rows, strict=True))
            print(f"{load:16} {name:12} {rps:8.0f} {web:11.0f} {workers:15.0f}")
    finally:
        for process, _ in servers.values():
            stop_process_group(process)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
