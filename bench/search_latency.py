"""Latency of /search (p50/p99) on a big corpus, the time to build its index, with a baseline.

    .venv/bin/python bench/search_latency.py [--docs 10000] [--queries 1000] [--workers 2]
                                             [--dist DIR] [--keep]

Writes the synthetic corpus of tests/source_corpus.py (`--docs` source documents, about 250
triples each, in en/az/ru), builds it with `publisher build --no-validate` (timed), times the
search index build alone on the built store (publisher.dataset.search_index, the step `build`
runs), then starts `publisher serve --workers N` on a free 127.0.0.1 port and sends
`--queries` sequential GETs /search?q=<prefix>&limit=8 over one keep-alive connection, the
prefixes random beginnings (1 character to the whole name) of real names of the index, mixed
languages (an equal share of en, az and ru names). The same run measures /robots.txt (the
stack's own cost) as the baseline, and the index alone in-process (no HTTP). `--dist DIR`
reuses a build instead of making one. Prints the machine first.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
from machine import describe  # noqa: E402
from support import ServerProcess, free_port  # noqa: E402

from publisher.textsearch import SEARCH_FILE, SearchIndex  # noqa: E402

LANGUAGES = ("en", "az", "ru")


def machine() -> str:
    return f"machine: {describe()}; SQLite {sqlite3.sqlite_version}"


def build(docs: int, port: int, work: Path) -> tuple[Path, float]:
    from source_corpus import write_corpus

    data = work / "data"
    started = time.perf_counter()
    write_corpus(data, docs=docs, seed=1)
    print(f"corpus: {docs} documents written in {time.perf_counter() - started:.1f} s")
    dist = work / "dist"
    command = [sys.executable, "-m", "publisher", "build", "--no-validate"]
    command += ["--data", str(data), "--ontology", str(ROOT / "ontology"), "--out", str(dist)]
    command += ["--base", f"http://127.0.0.1:{port}/"]
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return dist, time.perf_counter() - started


def time_index_build(dist: Path, base: str) -> tuple[float, float, int, int]:
    """The index step alone, as `build` runs it: on the in-memory store holding the dataset
    (the N-Quads dump) with the union of its graphs as the default graph."""
    import gzip

    import pyoxigraph as ox

    from publisher.dataset.search_index import write_search_index
    from publisher.store.union import store_union_default_graph

    store = ox.Store()
    store.bulk_load(gzip.decompress((dist / "dataset.nq.gz").read_bytes()), ox.RdfFormat.N_QUADS)
    store_union_default_graph(store)
    quads = len(store)
    with tempfile.TemporaryDirectory() as scratch:
        started, cpu = time.perf_counter(), time.process_time()
        path = write_search_index(store, base=base, target=Path(scratch))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        size = path.stat().st_size
    return elapsed, cpu, quads, size


def sample_queries(dist: Path, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    with sqlite3.connect(f"file:{dist / SEARCH_FILE}?mode=ro", uri=True) as db:
        by_language = {
            lang: [r[0] for r in db.execute("SELECT text FROM name WHERE lang = ?", (lang,))]
            for lang in LANGUAGES
        }
    names = {lang: found for lang, found in by_language.items() if found}
    print("names indexed: " + ", ".join(f"{k} {len(v)}" for k, v in names.items()))
    queries = []
    for i in range(count):
        pool = names[sorted(names)[i % len(names)]]
        name = rng.choice(pool)
        queries.append(name[: rng.randint(1, len(name))])
    return queries


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return (
        f"p50 {cut[49] * 1000:.2f} ms, p90 {cut[89] * 1000:.2f} ms, "
        f"p99 {cut[98] * 1000:.2f} ms, max {ordered[-1] * 1000:.2f} ms"
    )


def timed_gets(port: int, paths: list[str]) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    took = []
    for path in paths:
        started = time.perf_counter()
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        response.read()
        took.append(time.perf_counter() - started)
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status}")
    connection.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dist", type=Path, help="reuse this build (its base is kept)")
    parser.add_argument("--keep", action="store_true", help="keep the corpus and the build")
    options = parser.parse_args()
    print(machine())

    work = Path(tempfile.mkdtemp(prefix="search-latency-"))
    port = free_port()
    try:
        if options.dist:
            dist = options.dist
        else:
            dist, seconds = build(options.docs, port, work)
            print(f"publisher build --no-validate: {seconds:.1f} s")
        info = json.loads((dist / "build.json").read_text())
        base = info["base"]
        print(f"dataset: {info['triples']} triples, {info['quads']} quads, {info['graphs']} graphs")
        index_s, index_cpu, store_quads, size = time_index_build(dist, base)
        print(
            f"search index build: {index_s:.2f} s ({index_cpu:.2f} s CPU) over {store_quads} "
            f"stored quads (file {size / 1e6:.1f} MB)"
        )

        queries = sample_queries(dist, options.queries, options.seed)
        index = SearchIndex(dist / SEARCH_FILE)
        in_process = []
        for query in queries:
            started = time.perf_counter()
            index.search(query, limit=8)
            in_process.append(time.perf_counter() - started)
        print(f"index alone, in process ({len(queries)} queries): {percentiles(in_process)}")

        # A fresh build is served on the port its base names; a reused one on any free port.
        server = ServerProcess(
            dist, port=free_port() if options.dist else port, workers=options.workers
        )
        try:
            paths = [f"/search?q={quote(q)}&limit=8" for q in queries]
            timed_gets(server.port, paths[:50])  # warm up: imports, first connections
            baseline = timed_gets(server.port, ["/robots.txt"] * len(paths))
            searched = timed_gets(server.port, paths)
        finally:
            server.stop()
        print(f"baseline GET /robots.txt ({len(baseline)} requests): {percentiles(baseline)}")
        print(f"GET /search?q=..&limit=8 ({len(searched)} requests): {percentiles(searched)}")
        print(f"workers {options.workers}, one keep-alive connection, sequential requests")
        if options.keep:
            print(f"kept: {work}")
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
