"""Linked Data Fragments: what a client pays and what the server sustains.

    .venv/bin/python bench/fragments_speed.py [--dist DIST] [--workers 2] [--connections 8]
        [--requests 4000] [--seconds 10] [--questions 01,03,14]

1. Comunica (tests/clients/comunica, installed by `make test`) answers three competency
   questions from /fragments alone: its time and the number of HTTP requests it made, next to
   the same questions through /sparql (one request each), every answer checked equal.
2. Requests per second, same server, same load generator (wrk when installed, else the
   keep-alive Python client of bench/resources_rps.py), in one run: a subject fragment
   (N-Quads), a predicate fragment (page 1) and the point lookup of /sparql
   (SELECT * WHERE { <subject> ?p ?o }, SPARQL JSON) on the same subject.
The server is `publisher serve --workers N` on 127.0.0.1, stopped by its process group. The
load generator shares the machine's cores with the server: compare ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
sys.path.insert(0, str(ROOT / "bench"))
from fragments_client import canonical_rows, competency_questions, run_queries  # noqa: E402
from machine import describe  # noqa: E402
from resources_rps import build_seed, free_port, measure, pick_resource  # noqa: E402
from support import ServerProcess  # noqa: E402

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def wrk(url: str, accept: str, options: argparse.Namespace) -> dict:
    """wrk's requests/s and latency percentiles for one URL (bounded by --seconds)."""
    completed = subprocess.run(
        [
            "wrk",
            f"-t{min(2, options.connections)}",
            f"-c{options.connections}",
            f"-d{int(options.seconds)}s",
            "--latency",
            "-H",
            f"Accept: {accept}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=options.seconds + 60,
    )
    text = completed.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)

    def percentile(label: str) -> float:
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", text)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return {
        "rps": rps,
        "p50_ms": percentile("50"),
        "p99_ms": percentile("99"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def load(port: int, path: str, accept: str, options: argparse.Namespace) -> dict:
    if shutil.which("wrk"):
        # Warm the workers first, as measure() does.
        measure_options = argparse.Namespace(connections=1, requests=20, seconds=5)
        measure(port, path, accept, measure_options)
        return wrk(f"http://127.0.0.1:{port}{path}", accept, options)
    return measure(port, path, accept, options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, help="a built dist/ (default: build the seed)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, default=4000, help="per row (Python client)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per row")
    parser.add_argument("--questions", default="01,03,14", help="competency question numbers")
    options = parser.parse_args()

    port = free_port()
    dist = options.dist.resolve() if options.dist else build_seed(port)
    base = f"http://127.0.0.1:{port}/"
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {describe()}")
    print(f"server: publisher serve (granian), workers {options.workers}; dist {dist}")
    print(
        f"load: {'wrk' if shutil.which('wrk') else 'python keep-alive client'}, "
        f"{options.connections} connections, {options.seconds:g} s per row"
    )
    server = ServerProcess(
        dist, port=port, workers=options.workers, log_dir=Path(tempfile.gettempdir())
    )
    try:
        wanted = set(options.questions.split(","))
        questions = {
            name: text
            for name, text in competency_questions(ROOT / "ontology" / "cq").items()
            if name[:2] in wanted
        }
        print("\nComunica on /fragments (a fresh engine per question) vs /sparql")
        print(f"{'question':40} {'fragments ms':>12} {'requests':>9} {'sparql ms':>10} {'same':>5}")
        on_fragments = run_queries(f"{base}fragments", questions, base=base)
        on_sparql = run_queries({"type": "sparql", "value": f"{base}sparql"}, questions, base=base)
        for fragment_run, sparql_run in zip(on_fragments, on_sparql, strict=True):
            same = canonical_rows(fragment_run.results) == canonical_rows(sparql_run.results)
            print(
                f"{fragment_run.name:40} {fragment_run.ms:12.0f} {fragment_run.requests:9d} "
                f"{sparql_run.ms:10.0f} {'yes' if same else 'NO':>5}"
            )

        subject = base + pick_resource(port).removeprefix("/doc/").join(("id/", ""))
        lookup = f"SELECT * WHERE {{ <{subject}> ?p ?o }}"
        rows = [
            (
                "fragment ?subject= (N-Quads)",
                f"/fragments?{urlencode({'subject': subject})}",
                "application/n-quads",
            ),
            (
                "fragment ?predicate=rdf:type p1",
                f"/fragments?predicate={quote(RDF_TYPE, safe='')}",
                "application/n-quads",
            ),
            (
                "/sparql point lookup (JSON)",
                f"/sparql?{urlencode({'query': lookup})}",
                "application/sparql-results+json",
            ),
        ]
        print(f"\n{'target':36} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        results = {}
        for label, path, accept in rows:
            result = results[label] = load(port, path, accept, options)
            print(
                f"{label:36} {result['rps']:9.0f} {result['p50_ms']:8.2f} "
                f"{result['p99_ms']:8.2f} {result['errors']:7d}"
            )
        ratio = results[rows[0][0]]["rps"] / max(results[rows[2][0]]["rps"], 1e-9)
        print(f"\nsubject fragment / sparql point lookup: {ratio:.2f}x")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
