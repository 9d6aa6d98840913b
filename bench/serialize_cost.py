"""What the query worker adds to pyoxigraph's own time, per query shape of the web mixes.

    .venv/bin/python bench/serialize_cost.py [--triples 100000] [--queries 20] [--rounds 9]

For the fresh-mix shapes (bench/web_speed.py, random constants), on the toy corpus built by
the publisher, in this process: CPU time per query (process_time, the smallest and the median
of `--rounds` rounds of `--queries` queries: robust to a shared machine) of
- `engine`: pyoxigraph's query and its own writer (the Oxigraph server's work);
- `worker`: the query worker's `run_job` (the same query, serialize_result with the limits);
- `rows in Python`: the solutions read one by one in Python and written as TSV lines, then
  parsed back and written by pyoxigraph (how serialize_result worked before: the baseline).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from corpus import TRIPLES_PER_ENTITY  # noqa: E402
from machine import describe  # noqa: E402
from web_speed import BASE, SHAPES, build_toy_dist, make_query  # noqa: E402

from publisher import formats  # noqa: E402
from publisher.sparql.job import QueryJob, QueryLimits  # noqa: E402
from publisher.sparql.serialize import tsv_term  # noqa: E402
from publisher.store.query_worker import run_job  # noqa: E402

LIMITS = QueryLimits(rows=10_000, bytes=33_554_432, time_ms=10_000)


def rows_in_python(store: ox.Store, query: str) -> bytes:
    result = store.query(query)
    if isinstance(result, ox.QueryTriples):
        return ox.serialize(list(result), format=ox.RdfFormat.N_TRIPLES)
    variables = result.variables
    lines = ["\t".join("?" + v.value for v in variables) + "\n"]
    lines += ["\t".join(tsv_term(row[v]) for v in variables) + "\n" for row in result]
    table = ox.parse_query_results("".join(lines), ox.QueryResultsFormat.TSV)
    return table.serialize(format=ox.QueryResultsFormat.JSON)


def engine(store: ox.Store, query: str) -> bytes:
    result = store.query(query)
    if isinstance(result, ox.QueryTriples):
        return result.serialize(format=ox.RdfFormat.N_TRIPLES)
    return result.serialize(format=ox.QueryResultsFormat.JSON)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=9)
    options = parser.parse_args()
    print("date:", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    print("machine:", describe())
    work = Path(tempfile.mkdtemp(prefix="serialize-cost-"))
    try:
        build_toy_dist(work, triples=options.triples)
        store = ox.Store.read_only(str(work / "dist" / "store"))
        entities = -(-options.triples // TRIPLES_PER_ENTITY)
        print(f"{options.triples} triples; CPU ms per query, min / median of {options.rounds} "
              f"rounds of {options.queries}")  # fmt: skip
        print(f"{'shape':11} {'engine':>15} {'worker':>15} {'rows in Python':>15}")
        for shape in SHAPES:
            rng = random.Random(11)
            queries = [make_query(shape, rng, entities) for _ in range(options.queries)]
            fmt = formats.N_TRIPLES if shape == "construct" else formats.SPARQL_JSON
            jobs = [QueryJob(query=q, base=BASE, format_name=fmt.name) for q in queries]
            ways = {
                "engine": lambda i, q=queries: engine(store, q[i]),
                "worker": lambda i, j=jobs: run_job(store, j[i], LIMITS),
                "rows in Python": lambda i, q=queries: rows_in_python(store, q[i]),
            }
            for way in ways.values():
                way(0)  # warm the caches
            spent: dict[str, list[float]] = {name: [] for name in ways}
            for _ in range(options.rounds):
                for name, way in ways.items():  # in turns: a burst of load hits all alike
                    started = time.process_time()
                    for i in range(len(queries)):
                        way(i)
                    spent[name].append((time.process_time() - started) / len(queries) * 1000)
            cells = [f"{min(v):6.2f} / {statistics.median(v):6.2f}" for v in spent.values()]
            print(f"{shape:11} " + " ".join(f"{c:>15}" for c in cells))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
