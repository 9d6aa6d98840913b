"""What the remote-store path adds: the issue-10 query mix against Virtuoso directly and through
`publisher serve --store <Virtuoso>` on the same Virtuoso, in one run.

    .venv/bin/python bench/remote_overhead.py [--triples 1000000] [--clients 4]
        [--requests 4000] [--seconds 30] [--workers 2] [--rounds 1] [--before SRC]
        [--env PUBLISHER_NAME=VALUE]...

Data: the toy corpus (tests/corpus.py) built with `publisher build --no-validate` and bulk-loaded
into a fresh Virtuoso (tests/virtuoso_server.py; loopback ports, its own directory). The mix,
in turn per client: lookup, value range + language filter (the toy corpus has no dates: an
integer range stands for the date range), GROUP BY aggregate, GRAPH provenance, CONSTRUCT.
Virtuoso is asked exactly what the publisher asks it (the same dataset pragmas), so the ratio
is the publisher's own cost. Every answer is checked: first each (query, constant) is asked of
both and compared as parsed results; then, while timing, every body must equal that target's
checked body for the same request. Load is bounded by --requests and --seconds per target.
Target (issue 10): publisher q/s >= 0.9 x Virtuoso's. The mix is 200 requests asked again and
again, so after each has been asked twice in a web process the publisher's result cache answers
it (README, "Caches in front of a remote store"). `--rounds` measures the targets in turns and
prints the median ratio; `--before SRC` serves an older source tree too (same settings); the
web tier's CPU per request (its processes, /proc) is printed beside its q/s.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
from corpus import write_corpus  # noqa: E402
from machine import describe  # noqa: E402
from support import ServerProcess, build_data_only  # noqa: E402
from virtuoso_server import VirtuosoServer, virtuoso_available  # noqa: E402
from web_cpu import usage  # noqa: E402

from publisher.store.remote import RemoteStore  # noqa: E402

BASE = "http://bench.example/"
UNION_GRAPH = "urn:publisher:union"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
CONSTANTS = 40  # distinct constants per query shape; each is checked before timing
ACCEPT = {"CONSTRUCT": "application/n-triples"}


def mix(entities: int) -> list[tuple[str, str]]:
    """(shape, query) pairs: CONSTANTS of each shape, interleaved."""
    queries = []
    for i in range(CONSTANTS):
        entity = f"<{BASE}id/entity/{(i * 7919) % entities}>"
        low = (i * 24_989) % 990_000
        queries += [
            ("lookup", f"SELECT ?label WHERE {{ {entity} <{LABEL}> ?label }}"),
            (
                "range",
                f"SELECT ?e ?label WHERE {{ ?e <{BASE}def/value> ?v ; <{LABEL}> ?label "
                f'FILTER(?v >= {low} && ?v < {low + 2_000} && LANG(?label) = "en") }}',
            ),
            (
                "aggregate",
                f"SELECT ?class (COUNT(*) AS ?n) (AVG(?v) AS ?mean) WHERE {{ ?e a ?class ; "
                f"<{BASE}def/group> <{BASE}id/group/{i % 100}> ; <{BASE}def/value> ?v }} "
                "GROUP BY ?class ORDER BY ?class",
            ),
            (
                "provenance",
                f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?e a <{BASE}def/Class{i % 10}> }} }} "
                "GROUP BY ?g ORDER BY ?g",
            ),
            ("construct", f"CONSTRUCT {{ {entity} ?p ?o }} WHERE {{ {entity} ?p ?o }}"),
        ]
    return queries


def request(connection: http.client.HTTPConnection, path: str, form: str, accept: str) -> bytes:
    return answer(connection, path, form, accept)[0]


def answer(
    connection: http.client.HTTPConnection, path: str, form: str, accept: str
) -> tuple[bytes, bool]:
    """The body, and whether the publisher's result cache gave it (its Server-Timing)."""
    connection.request(
        "POST",
        path,
        body=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
    )
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"{response.status}: {body[:300]!r}")
    return body, (response.getheader("Server-Timing") or "").startswith("cache")


def normalised(body: bytes, accept: str) -> list[str]:
    """An answer as comparable rows: sorted N-Triples lines, or sorted JSON bindings."""
    if accept == "application/n-triples":
        return sorted(str(t) for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
    parsed = ox.parse_query_results(
        body.replace(b'"value": "nodeID://', b'"value": "'), format=ox.QueryResultsFormat.JSON
    )
    names = [v.value for v in parsed.variables]
    return sorted(
        json.dumps({n: str(s[n]) for n in names if s[n] is not None}, sort_keys=True)
        for s in parsed
    )


def _client(job: tuple) -> tuple[int, float, int, int]:
    """One client process: the mix in turn until its share of requests or the deadline."""
    url, forms, expected, requests_each, deadline = job
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    done = wrong = cached = 0
    started = time.perf_counter()
    while done < requests_each and time.time() < deadline:
        form, accept = forms[done % len(forms)]
        body, from_cache = answer(connection, parts.path, form, accept)
        if hashlib.sha256(body).hexdigest() != expected[done % len(forms)]:
            wrong += 1
        cached += from_cache
        done += 1
    return done, time.perf_counter() - started, wrong, cached


def measure(url: str, forms: list, expected: list, options: argparse.Namespace) -> dict:
    deadline = time.time() + options.seconds
    share = options.requests // options.clients
    jobs = [
        (url, forms[i:] + forms[:i], expected[i:] + expected[:i], share, deadline)
        for i in range(options.clients)
    ]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(options.clients) as pool:
        results = pool.map(_client, jobs)
    elapsed = time.perf_counter() - started
    done = sum(r[0] for r in results)
    return {
        "requests": done,
        "seconds": elapsed,
        "qps": done / elapsed,
        "wrong": sum(r[2] for r in results),
        "cached": sum(r[3] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=4_000)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--buffers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1, help="measurements per target, in turns")
    parser.add_argument(
        "--before", default="", help="source tree of an older publisher, served too (`before`)"
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the served publishers, e.g. PUBLISHER_SPARQL_CACHE_MAX_BYTES=0 "
        "(repeatable; the server starts with no other PUBLISHER_* variable of this shell)",
    )
    options = parser.parse_args()
    settings = dict(assignment.split("=", 1) for assignment in options.env)
    reason = virtuoso_available()
    if reason:
        sys.exit(f"cannot run: {reason}")
    print("machine:", describe())
    with tempfile.TemporaryDirectory(prefix="remote-overhead-") as scratch:
        root = Path(scratch)
        write_corpus(root / "data", triples=options.triples, base=BASE)
        started = time.perf_counter()
        dist = build_data_only(root / "dist", base=BASE, data_dir=root / "data")
        print(
            f"build --no-validate of {options.triples:,} triples: {time.perf_counter() - started:.1f} s"
        )
        with VirtuosoServer(root / "virtuoso", buffers=options.buffers) as virtuoso:
            seconds = virtuoso.bulk_load(dist / "dataset.nq.gz", graph=UNION_GRAPH)
            print(f"Virtuoso bulk load of dist/dataset.nq.gz: {seconds:.1f} s")
            scope = RemoteStore(virtuoso.sparql_url, base=BASE, union_graph=UNION_GRAPH)._scope()
            env = {
                "PUBLISHER_STORE": virtuoso.sparql_url,
                "PUBLISHER_STORE_UNION_GRAPH": UNION_GRAPH,
                **settings,
            }
            if settings:
                print("publisher settings:", " ".join(f"{k}={v}" for k, v in settings.items()))
            server = ServerProcess(
                dist, workers=options.workers, env=env, log_dir=root, ready_timeout_s=120
            )
            urls = {"virtuoso": virtuoso.sparql_url, "publisher": server.url + "/sparql"}
            servers = {"publisher": server}
            if options.before:
                before_env = {**env, "PYTHONPATH": str(Path(options.before).resolve())}
                before_env["PUBLISHER_CACHE_DIR"] = str(root / "cache-before")
                servers["before"] = ServerProcess(
                    dist, workers=options.workers, env=before_env, log_dir=root,
                    ready_timeout_s=120, cwd=Path(options.before).resolve(),
                )  # fmt: skip
                urls["before"] = servers["before"].url + "/sparql"
            try:
                entities = options.triples // 5
                targets: dict[str, tuple[list, list]] = {name: ([], []) for name in urls}
                for _shape, query in mix(entities):
                    accept = ACCEPT.get(query.split()[0], "application/sparql-results+json")
                    prologue, _ = scope.union(query)
                    direct = urlencode({"query": scope.describe_mode(query) + prologue + query})
                    via = urlencode({"query": query})
                    for name in urls:
                        targets[name][0].append((direct if name == "virtuoso" else via, accept))
                # The checking pass: each request of the mix to each, compared as results.
                answers = {}
                for name, url in urls.items():
                    parts = urlsplit(url)
                    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
                    bodies = [request(connection, parts.path, f, a) for f, a in targets[name][0]]
                    targets[name][1].extend(hashlib.sha256(b).hexdigest() for b in bodies)
                    answers[name] = [
                        normalised(b, a) for b, (_, a) in zip(bodies, targets[name][0], strict=True)
                    ]
                different = [
                    mix(entities)[i][0]
                    for i, (a, b) in enumerate(
                        zip(answers["virtuoso"], answers["publisher"], strict=True)
                    )
                    if a != b
                ]
                print(
                    f"checked {len(answers['virtuoso'])} answers: {len(different)} differ {different[:5]}"
                )
                if "before" in answers and answers["before"] != answers["publisher"]:
                    print("before and publisher differ")
                rates: dict[str, list[float]] = {name: [] for name in urls}
                for _ in range(options.rounds):
                    for name, url in urls.items():  # in turns: the machine's load hits all alike
                        cpu = usage(servers[name].process.pid) if name in servers else None
                        f = measure(url, *targets[name], options)
                        rates[name].append(f["qps"])
                        spent = ""
                        if cpu is not None:
                            after = usage(servers[name].process.pid)
                            per = (sum(after.values()) - sum(cpu.values())) / f["requests"]
                            spent = f", web tier CPU {per * 1e6:.0f} us/request"
                        print(
                            f"{name:>9}: {f['qps']:7.1f} q/s ({f['requests']} requests in "
                            f"{f['seconds']:.1f} s, {options.clients} clients, "
                            f"{f['wrong']} wrong answers, {f['cached']} from the result "
                            f"cache{spent})"
                        )
                best = {name: statistics.median(r) for name, r in rates.items()}
                for name in servers:
                    print(
                        f"{name} / Virtuoso (median of {options.rounds}): "
                        f"{best[name] / best['virtuoso']:.2f}x (target >= 0.90x)"
                    )
            finally:
                for running in servers.values():
                    running.stop()


if __name__ == "__main__":
    main()
