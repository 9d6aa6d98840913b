"""CPU per query of each fresh-mix shape: the publisher against the Oxigraph server (issue 10).

    .venv/bin/python bench/mix_cpu.py [--triples 100000] [--queries 20] [--rounds 3]
        [--before SRC] [--env NAME=VALUE]...

The fresh mix of bench/web_speed.py runs at the rate the servers' CPU allows when the cores
are busy; on a shared machine q/s move with the neighbours' load, the CPU a server spends per
query much less. For each shape (constants drawn at random per query, the same queries for
every server), one client sends `--queries` queries in a row (after a warm-up) to each server
in turns, `--rounds` times, and the user+system CPU of the server's processes (/proc: the web
processes and the query workers for the publisher) is divided by the queries; the median
round is printed with the wall-clock p50. Every answer is checked against pyoxigraph.

Servers: `publisher` (this tree, `--env` settings, one web process), `before` (`--before`, a
source tree of an older commit served by the same Python: a before/after in one run), and the
Oxigraph server (`oxigraph serve-read-only --union-default-graph` on the same N-Quads).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from corpus import TRIPLES_PER_ENTITY  # noqa: E402
from machine import describe  # noqa: E402
from support import stop_process_group  # noqa: E402
from web_cpu import usage  # noqa: E402
from web_speed import (  # noqa: E402
    JSON_RESULTS,
    NTRIPLES,
    SHAPES,
    answer_of_body,
    answer_of_engine,
    build_toy_dist,
    free_port,
    make_query,
    numeric,
    start,
    wait_up,
)

# Cheap shapes get more queries, so that their CPU is more than a few clock ticks.
SCALE = {"lookup": 10, "construct": 10, "provenance": 3, "range": 1, "aggregate": 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=20, help="per shape, round and server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default="", help="source tree of an older publisher")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for `publisher`")
    options = parser.parse_args()
    print("date:", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    print("machine:", describe())
    work = Path(tempfile.mkdtemp(prefix="mix-cpu-"))
    servers: dict[str, tuple[subprocess.Popen, int, str]] = {}
    try:
        corpus = build_toy_dist(work, triples=options.triples)
        entities = -(-options.triples // TRIPLES_PER_ENTITY)
        engine = ox.Store.read_only(str(work / "dist" / "store"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
        variants = {"publisher": dict(e.split("=", 1) for e in options.env)}
        sources = {"publisher": ROOT}
        if options.before:
            sources["before"] = Path(options.before).resolve()
            variants["before"] = {"PYTHONPATH": str(sources["before"])}
        for name, extra in variants.items():
            port = free_port()
            command = [sys.executable, "-m", "publisher", "serve", "--dist", str(work / "dist"),
                       "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
            run_env = {**env, "PUBLISHER_CACHE_DIR": str(work / f"cache-{name}"), **extra}
            process = start(command, work / f"{name}.log", run_env, cwd=sources[name])
            servers[name] = (process, port, "/sparql")
        oxigraph = shutil.which("oxigraph", path=str(Path(sys.executable).parent))
        if oxigraph:
            subprocess.run([oxigraph, "load", "--location", str(work / "oxigraph"), "--file",
                            str(corpus)], check=True, capture_output=True)  # fmt: skip
            port = free_port()
            command = [oxigraph, "serve-read-only", "--location", str(work / "oxigraph"),
                       "--bind", f"127.0.0.1:{port}", "--union-default-graph"]  # fmt: skip
            servers["oxigraph"] = (start(command, work / "oxigraph.log"), port, "/query")
        for _, port, path in servers.values():
            wait_up(f"http://127.0.0.1:{port}{path}?" + urlencode({"query": "ASK {}"}))
        print(f"{options.triples} triples; per query: server CPU ms (median of {options.rounds} "
              f"rounds) and wall p50 ms, one client\n")  # fmt: skip
        print(f"{'shape':11} " + " ".join(f"{name:>22}" for name in servers))
        totals = dict.fromkeys(servers, 0.0)
        wrong = 0
        for shape in SHAPES:
            count = options.queries * SCALE[shape]
            accept = NTRIPLES if shape == "construct" else JSON_RESULTS
            cpu: dict[str, list[float]] = {name: [] for name in servers}
            wall: dict[str, list[float]] = {name: [] for name in servers}
            for round_ in range(options.rounds):
                rng = random.Random(1000 + round_)
                queries = [make_query(shape, rng, entities) for _ in range(count)]
                for name, (process, port, path) in servers.items():
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

                    def ask(query: str, conn=connection, path=path, accept=accept) -> bytes:
                        conn.request("GET", path + "?" + urlencode({"query": query}),
                                     headers={"Accept": accept})  # fmt: skip
                        response = conn.getresponse()
                        body = response.read()
                        assert response.status == 200, (response.status, body[:300])
                        return body

                    for query in queries[:3]:
                        ask(query + " ")  # warm-up (another text: no cache)
                    before = usage(process.pid)
                    bodies = []
                    for query in queries:
                        started = time.perf_counter()
                        bodies.append(ask(query))
                        wall[name].append(time.perf_counter() - started)
                    after = usage(process.pid)
                    connection.close()
                    spent = sum(after.values()) - sum(before.values())
                    cpu[name].append(spent / count * 1000)
                    for query, body in zip(queries[:5], bodies[:5], strict=True):
                        ours = numeric(answer_of_body(body, shape == "construct"))
                        if ours != numeric(answer_of_engine(engine, query)):
                            wrong += 1
            cells = []
            for name in servers:
                median = statistics.median(cpu[name])
                totals[name] += median
                cells.append(f"{median:8.2f} ({statistics.median(wall[name]) * 1000:7.2f})")
            print(f"{shape:11} " + " ".join(f"{c:>22}" for c in cells), flush=True)
        print(f"{'mix (sum)':11} " + " ".join(f"{totals[n]:8.2f}{'':14}" for n in servers))
        if "oxigraph" in totals:
            for name in servers:
                if name != "oxigraph" and totals[name]:
                    print(f"CPU-bound q/s ratio {name} / oxigraph: "
                          f"{totals['oxigraph'] / totals[name]:.2f}x")  # fmt: skip
        print(f"wrong answers (first 5 per shape, round and server): {wrong}")
    finally:
        for process, _, _ in servers.values():
            stop_process_group(process)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
