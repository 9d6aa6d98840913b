"""Where the milliseconds of a fresh SPARQL point lookup go, in one web process (issue 10).

    .venv/bin/python bench/fresh_lookup_profile.py [--triples 20000] [--lookups 500]

The app is called as a WSGI server would call it (no HTTP, no load generator), with a new
entity per request so that no cache answers: the whole request through Flask
(`sparql_fresh_path` off) and through the fresh path, then the stages alone: the query's
checks, the worker round trip (`Store.run`), pyoxigraph's query and serialization in this
process, and the query alone. Wall time per request, best of three passes.
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from corpus import TRIPLES_PER_ENTITY  # noqa: E402
from machine import describe  # noqa: E402
from support import in_process_app  # noqa: E402
from web_speed import BASE, LABEL, build_toy_dist  # noqa: E402


def lookup(entity: int) -> str:
    return f"SELECT ?label WHERE {{ <{BASE}id/entity/{entity}> <{LABEL}> ?label }}"


def environ(query: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/sparql",
        "QUERY_STRING": "query=" + quote(query, safe=""),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": "application/sparql-results+json",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def best_ms(items: list, run: Callable[[object], object], *, passes: list | None = None) -> float:
    """Best of three passes over `items` (or over each of `passes`: no item asked twice)."""
    timings = []
    for batch in passes or [items] * 3:
        started = time.perf_counter()
        for item in batch:
            run(item)
        timings.append((time.perf_counter() - started) / len(batch) * 1000)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=20_000)
    parser.add_argument("--lookups", type=int, default=500)
    options = parser.parse_args()
    print("machine:", describe())
    work = Path(tempfile.mkdtemp(prefix="fresh-profile-"))
    try:
        build_toy_dist(work, triples=options.triples)
        entities = -(-options.triples // TRIPLES_PER_ENTITY)
        from publisher import formats
        from publisher.namespaces import prefixes
        from publisher.sparql.job import QueryJob, QueryLimits
        from publisher.sparql.safety import check_query
        from publisher.sparql.serialize import serialize_result
        from publisher.store.workers import shutdown_all

        rng = random.Random(1)
        # A whole request is never asked twice (the caches would answer): six passes of
        # distinct entities for the two whole-request figures.
        order = rng.sample(range(entities - 20), entities - 20)
        size = min(options.lookups, len(order) // 6)
        batches = [order[i * size : (i + 1) * size] for i in range(6)]
        print(f"{options.triples} triples; {size} lookups per pass, best of 3\n")

        def whole(fresh: bool, passes: list[list[int]]) -> float:
            app = in_process_app(
                work / "dist", cache_dir=str(work / f"cache-{fresh}"), sparql_fresh_path=fresh
            )

            def call(entity: object) -> None:
                body = app(environ(lookup(int(entity))), lambda status, headers, *_: None)
                b"".join(body)
                getattr(body, "close", lambda: None)()

            for entity in range(20):  # the worker pool, imports
                call(entities - 1 - entity)
            return best_ms([], call, passes=passes)

        print(f"whole request through Flask:          {whole(False, batches[:3]):6.3f} ms")
        print(f"whole request on the fresh path:      {whole(True, batches[3:]):6.3f} ms")
        app = in_process_app(work / "dist", cache_dir=str(work / "cache-stages"))
        with app.app_context():
            from publisher.web.state import served_build

            state = served_build()
            settings = state.settings
            limits = QueryLimits(
                rows=settings.sparql_max_rows,
                bytes=settings.sparql_max_response_bytes,
                time_ms=settings.sparql_time_limit_ms,
            )
            queries = [lookup(e) for e in batches[0]]
            jobs = [
                QueryJob(
                    query=q,
                    base=state.base,
                    format_name=formats.SPARQL_JSON.name,
                    prefixes=prefixes(state.base),
                )
                for q in queries
            ]
            checks = best_ms(
                queries,
                lambda q: check_query(
                    q,
                    base=state.base,
                    graphs=state.graph_sizes,
                    protocol_dataset=False,
                    max_tokens=settings.sparql_max_query_tokens,
                    max_depth=settings.sparql_max_nesting_depth,
                ),
            )
            print(f"the query's checks (check_query):     {checks:6.3f} ms")
            for job in jobs[:20]:
                state.store.run(job, limits)
            print(
                f"worker round trip (Store.run):        {best_ms(jobs, lambda j: state.store.run(j, limits)):6.3f} ms"
            )
            engine = state.store.oxigraph  # type: ignore[attr-defined]

            def in_process(job: object) -> None:
                result = engine.query(job.query, base_iri=state.base)  # type: ignore[attr-defined]
                serialize_result(
                    result,
                    formats.SPARQL_JSON,
                    max_rows=limits.rows,
                    prefixes=job.prefixes,  # type: ignore[attr-defined]
                    max_bytes=limits.bytes,
                )

            print(f"pyoxigraph query + serialization:     {best_ms(jobs, in_process):6.3f} ms")
            print(
                f"pyoxigraph query alone:               {best_ms(queries, lambda q: list(engine.query(q, base_iri=state.base))):6.3f} ms"
            )
        shutdown_all()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
