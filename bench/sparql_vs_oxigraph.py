"""Queries per second of our /sparql (gunicorn, `publisher serve --workers 2`) vs Oxigraph's
own server (`oxigraph serve-read-only`), on the same data and the same queries, in one run.

    .venv/bin/python bench/sparql_vs_oxigraph.py [--triples 100000] [--requests 3000]
        [--seconds 15] [--clients 2] [--threads 4]

The load is bounded: each (server, query) pair stops after `--requests` requests or
`--seconds` seconds, whichever comes first. The clients are separate processes (with a few
keep-alive connections each) on the same machine, so on a small machine they share the CPU
with the server under test: compare the ratio, not the absolute figures. Both servers bind
127.0.0.1 and are stopped (by their process group id) at the end.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
from support import stop_process_group as stop  # noqa: E402
from web_speed import BASE, build_toy_dist  # noqa: E402

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
QUERIES: dict[str, Callable[[int], str]] = {
    "lookup": lambda i: (
        f"SELECT ?label WHERE {{ <{BASE}id/entity/{i % 20_000}> <{RDFS_LABEL}> ?label }}"
    ),
    "join": lambda i: (
        f"SELECT ?e ?label WHERE {{ ?e <{BASE}def/group> <{BASE}id/group/{i % 100}> ; "
        f"<{RDFS_LABEL}> ?label }} LIMIT 50"
    ),
    "count": lambda i: f"SELECT (COUNT(*) AS ?n) WHERE {{ ?e a <{BASE}def/Class{i % 10}> }}",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(port: int, path: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path + "?" + urlencode({"query": "ASK {}"}))
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not come up")


def start(command: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _client(args: tuple[int, str, str, int, float, int, int]) -> tuple[int, int, list[float]]:
    """One client process: `threads` keep-alive connections, bounded by count and time."""
    import threading

    port, path, name, budget, seconds, threads, seed = args
    lock = threading.Lock()
    state = {"left": budget, "errors": 0}
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = seed * 1000 + index
        while time.monotonic() < deadline:
            with lock:
                if state["left"] <= 0:
                    break
                state["left"] -= 1
            i += 7
            query = QUERIES[name](i)
            target = path + "?" + urlencode({"query": query})
            started = time.perf_counter()
            try:
                connection.request(
                    "GET", target, headers={"Accept": "application/sparql-results+json"}
                )
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200 and b"bindings" in body
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    state["errors"] += 1
        connection.close()

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return len(latencies), state["errors"], latencies


def measure(port: int, path: str, name: str, options: argparse.Namespace) -> dict[str, float]:
    per_client = max(1, options.requests // options.clients)
    jobs = [
        (port, path, name, per_client, options.seconds, options.threads, seed)
        for seed in range(options.clients)
    ]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(options.clients) as pool:
        results = pool.map(_client, jobs)
    wall = time.perf_counter() - started
    done = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[2])
    return {
        "requests": done,
        "errors": sum(r[1] for r in results),
        "qps": done / wall,
        "median_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3000, help="per server and query")
    parser.add_argument("--seconds", type=float, default=15, help="per server and query")
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--threads", type=int, default=4, help="connections per client")
    options = parser.parse_args()

    print("machine:", " ".join(platform.uname()))
    print(
        "uname -a:", subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    )
    print("nproc:", os.cpu_count())
    work = Path(tempfile.mkdtemp(prefix="sparql-bench-"))
    servers: list[subprocess.Popen] = []
    try:
        corpus = build_toy_dist(work, triples=options.triples)
        print(f"corpus: {options.triples} triples in {corpus}")
        oxigraph = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"
        subprocess.run(
            [oxigraph, "load", "--location", str(work / "oxigraph"), "--file", str(corpus)],
            check=True, capture_output=True,
        )  # fmt: skip

        ours_port, theirs_port = free_port(), free_port()
        servers.append(
            start(
                [sys.executable, "-m", "publisher", "serve", "--dist", str(work / "dist"),
                 "--host", "127.0.0.1", "--port", str(ours_port), "--workers", "2"],
                work / "publisher.log",
            )
        )  # fmt: skip
        servers.append(
            start(
                [oxigraph, "serve-read-only", "--location", str(work / "oxigraph"),
                 "--bind", f"127.0.0.1:{theirs_port}", "--union-default-graph"],
                work / "oxigraph.log",
            )
        )  # fmt: skip
        wait_until_up(ours_port, "/sparql")
        wait_until_up(theirs_port, "/query")

        print(
            f"load: {options.clients} client processes x {options.threads} connections, "
            f"at most {options.requests} requests or {options.seconds} s per server and query\n"
        )
        print(f"{'query':8} {'server':10} {'requests':>8} {'errors':>6} {'qps':>8} "
              f"{'median ms':>10} {'p95 ms':>8}")  # fmt: skip
        for name in QUERIES:
            # Warm both (pool start-up, caches) with the same small load first.
            for port, path in ((ours_port, "/sparql"), (theirs_port, "/query")):
                measure(port, path, name, argparse.Namespace(**{**vars(options), "requests": 50}))
            figures = {}
            for label, port, path in (
                ("publisher", ours_port, "/sparql"),
                ("oxigraph", theirs_port, "/query"),
            ):
                figures[label] = measure(port, path, name, options)
                f = figures[label]
                print(
                    f"{name:8} {label:10} {f['requests']:8.0f} {f['errors']:6.0f} "
                    f"{f['qps']:8.0f} {f['median_ms']:10.2f} {f['p95_ms']:8.2f}"
                )
            ratio = figures["publisher"]["qps"] / max(figures["oxigraph"]["qps"], 1e-9)
            print(f"{name:8} ratio publisher/oxigraph: {ratio:.2f}\n")
    finally:
        for process in servers:
            stop(process)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
