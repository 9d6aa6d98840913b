"""Load and abuse on loopback: normal clients crawl, query and download while attackers run.

    .venv/bin/python bench/load_abuse.py [--clients 64] [--seconds 60] [--slow 200]
                                         [--runaway 4] [--workers 2] [--dist DIR]

Starts its own `publisher serve` on a free 127.0.0.1 port (the test suite's server helper,
tests/support.py; stopped by its process group) on the seed dataset built for that port, or
on --dist. Then `--clients` threads act as normal users for `--seconds`, split in three
equal phases:

  baseline   only the normal clients;
  slowloris  plus `--slow` connections that send a request's headers one line a second and
             never finish them;
  runaway    plus `--runaway` clients that POST cartesian-product queries again and again.

A normal client picks, each time: a crawl step (GET /id/... with one of the RDF or HTML media
types, following the 303 to /doc/), a SPARQL query (with the data's Azerbaijani and Russian
labels; GET and POST), or a dump download. It prints the machine, then per phase the normal
requests' throughput, p50 and p99, and every error (a status other than the expected one, or
an exception such as a timeout), grouped with a count and examples. Bounded in time and
connections; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support import ServerProcess, build_dist, free_port  # noqa: E402

PHASES = ("baseline", "slowloris", "runaway")
REQUEST_TIMEOUT_S = 10.0
CRAWL_TYPES = (
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/n-quads",
    "application/rdf+xml",
    "text/html",
)
QUERIES = (
    'SELECT ?s WHERE { ?s ?p "Xocalı"@az }',
    'SELECT ?s WHERE { ?s ?p "Ходжалы"@ru }',
    "SELECT ?type (COUNT(?s) AS ?n) WHERE { ?s a ?type } GROUP BY ?type",
    "ASK { ?s ?p ?o }",
)
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
DUMPS = ("/dumps/dataset.nt.gz", "/dumps/dataset.ttl.gz", "/dumps/void.ttl")


@dataclass(frozen=True)
class Result:
    phase: str
    kind: str
    seconds: float
    error: str  # "" when the answer was the expected one


class Clock:
    """Which phase a moment belongs to."""

    def __init__(self, seconds: float) -> None:
        self.start = time.monotonic()
        self.length = seconds / len(PHASES)
        self.end = self.start + seconds

    def phase(self) -> str | None:
        elapsed = time.monotonic() - self.start
        index = int(elapsed // self.length)
        return PHASES[index] if index < len(PHASES) else None

    def phase_window(self, name: str) -> tuple[float, float]:
        index = PHASES.index(name)
        return self.start + index * self.length, self.start + (index + 1) * self.length


# -- normal clients ------------------------------------------------------------------------------
def normal_client(url: str, things: list[str], clock: Clock, results: list, seed: int) -> None:
    chooser = random.Random(seed)
    session = requests.Session()
    while (phase := clock.phase()) is not None:
        kind = chooser.choices(("crawl", "sparql", "dump"), weights=(6, 3, 1))[0]
        started = time.perf_counter()
        try:
            error = ACTIONS[kind](session, url, things, chooser)
        except requests.RequestException as exception:
            error = f"{type(exception).__name__}"
        results.append(Result(phase, kind, time.perf_counter() - started, error))


def crawl(session: requests.Session, url: str, things: list[str], chooser) -> str:
    media_type = chooser.choice(CRAWL_TYPES)
    response = session.get(
        url + chooser.choice(things), headers={"Accept": media_type}, timeout=REQUEST_TIMEOUT_S
    )
    if response.status_code != 200 or "/doc/" not in response.url:
        return f"crawl {media_type}: {response.status_code}"
    return ""


def sparql(session: requests.Session, url: str, _things, chooser) -> str:
    query = chooser.choice(QUERIES)
    if chooser.random() < 0.5:
        how = "GET"
        response = session.get(
            f"{url}/sparql?query={quote(query)}",
            headers={"Accept": "application/sparql-results+json"},
            timeout=REQUEST_TIMEOUT_S,
        )
    else:
        how = "POST"
        response = session.post(
            url + "/sparql",
            data=query.encode("utf-8"),
            headers={
                "Content-Type": "application/sparql-query",
                "Accept": "application/sparql-results+json",
            },
            timeout=REQUEST_TIMEOUT_S,
        )
    if response.status_code != 200:
        return f"sparql {how} {query[:30]!r}: {response.status_code}"
    return ""


def dump(session: requests.Session, url: str, _things, chooser) -> str:
    name = chooser.choice(DUMPS)
    response = session.get(url + name, timeout=REQUEST_TIMEOUT_S)
    return "" if response.status_code == 200 else f"dump {name}: {response.status_code}"


ACTIONS = {"crawl": crawl, "sparql": sparql, "dump": dump}


# -- attackers ------------------------------------------------------------------------------------
def slowloris(port: int, connections: int, clock: Clock, stats: Counter) -> None:
    """Open connections during the slowloris phase; trickle one header line a second each."""
    begin, end = clock.phase_window("slowloris")
    time.sleep(max(0.0, begin - time.monotonic()))
    sockets: list[socket.socket] = []
    for _ in range(connections):
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            sockets.append(sock)
        except OSError:
            stats["slowloris connect failed"] += 1
    stats["slowloris connections opened"] += len(sockets)
    while time.monotonic() < end:
        for sock in list(sockets):
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                stats["slowloris connection dropped by server"] += 1
                sockets.remove(sock)
        time.sleep(1.0)
    for sock in sockets:
        sock.close()


def runaway(url: str, clock: Clock, stats: Counter) -> None:
    begin, end = clock.phase_window("runaway")
    time.sleep(max(0.0, begin - time.monotonic()))
    session = requests.Session()
    while time.monotonic() < end:
        try:
            response = session.post(
                url + "/sparql",
                data=RUNAWAY.encode(),
                headers={"Content-Type": "application/sparql-query"},
                timeout=60,
            )
            stats[f"runaway answered {response.status_code}"] += 1
        except requests.RequestException as exception:
            stats[f"runaway {type(exception).__name__}"] += 1


# -- report -------------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(results: list[Result], clock: Clock, stats: Counter) -> None:
    print(
        f"\n{'phase':<10} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}"
    )
    for phase in PHASES:
        mine = [r for r in results if r.phase == phase]
        if not mine:
            print(f"{phase:<10} {0:>8}")
            continue
        latencies = [r.seconds * 1000 for r in mine]
        errors = sum(1 for r in mine if r.error)
        print(
            f"{phase:<10} {len(mine):>8} {len(mine) / clock.length:>7.1f} "
            f"{statistics.median(latencies):>8.1f} {percentile(latencies, 0.99):>8.1f} "
            f"{max(latencies):>8.1f} {errors:>6}"
        )
    by_kind = defaultdict(list)
    for r in results:
        by_kind[(r.phase, r.kind)].append(r.seconds * 1000)
    print("\nper kind (p50 / p99 ms):")
    for (phase, kind), values in sorted(by_kind.items()):
        print(
            f"  {phase:<10} {kind:<7} n={len(values):<6} "
            f"{statistics.median(values):.1f} / {percentile(values, 0.99):.1f}"
        )
    errors = Counter((r.phase, r.error) for r in results if r.error)
    print(f"\nerrors of normal requests: {sum(errors.values())}")
    for (phase, error), count in sorted(errors.items()):
        print(f"  {phase:<10} {count:>6} x {error}")
    print("\nattackers:")
    for key, count in sorted(stats.items()):
        print(f"  {count:>6} {key}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--slow", type=int, default=200, help="slowloris connections")
    parser.add_argument("--runaway", type=int, default=4, help="runaway query clients")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=None, help="app threads per worker (setting threads)"
    )
    parser.add_argument("--dist", type=Path, help="a built dist/ (default: build the seed)")
    options = parser.parse_args()

    port = free_port()
    dist = options.dist or build_dist(
        Path(tempfile.mkdtemp(prefix="load-abuse-")) / "dist", base=f"http://127.0.0.1:{port}/"
    )
    env = {"PUBLISHER_THREADS": str(options.threads)} if options.threads else None
    server = ServerProcess(dist, port=port, workers=options.workers, env=env)
    try:
        url = server.url
        sitemap = requests.get(url + "/sitemap.xml", timeout=30).text
        things = [
            "/id/" + chunk.split("</loc>")[0].split("/doc/", 1)[1]
            for chunk in sitemap.split("<loc>")[1:]
            if "/doc/" in chunk.split("</loc>")[0]
        ]
        print(
            f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}"
        )
        print(
            f"server: publisher serve --workers {options.workers} on {url} ({len(things)} things)"
        )
        print(
            f"load: {options.clients} clients x {options.seconds:.0f} s in 3 phases of "
            f"{options.seconds / 3:.1f} s; slowloris {options.slow} connections; "
            f"runaway {options.runaway} clients; request timeout {REQUEST_TIMEOUT_S:.0f} s"
        )
        clock = Clock(options.seconds)
        results: list[Result] = []
        stats: Counter = Counter()
        threads = [
            threading.Thread(
                target=normal_client, args=(url, things, clock, results, seed), daemon=True
            )
            for seed in range(options.clients)
        ]
        threads.append(
            threading.Thread(target=slowloris, args=(port, options.slow, clock, stats), daemon=True)
        )
        threads += [
            threading.Thread(target=runaway, args=(url, clock, stats), daemon=True)
            for _ in range(options.runaway)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(0.0, clock.end - time.monotonic()) + 70)
        report(results, clock, stats)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
