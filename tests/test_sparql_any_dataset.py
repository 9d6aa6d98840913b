"""`publisher build --data DIR --no-validate` then `publisher serve`: /sparql works on any RDF."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sparql_helpers import SparqlServer, query_workers
from support import ROOT, W3C


@pytest.fixture(scope="module")
def any_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("any")
    data = root / "data"
    data.mkdir()
    for name in ("data.ttl", "data2.ttl"):
        (data / name).write_bytes((W3C / "csv-tsv-res" / name).read_bytes())
    (data / "extra.nt").write_bytes((W3C / "protocol" / "data1.nt").read_bytes())
    out = root / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher",
            "build",
            "--data",
            str(data),
            "--out",
            str(out),
            "--no-validate",
            "--base",
            "http://any.example/",
            "--ontology",
            "",
            "--shapes",
            "",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def server(any_dist: Path) -> Iterator[SparqlServer]:
    process = SparqlServer(any_dist, workers=1)
    yield process
    process.stop()


def test_endpoint_answers_over_any_directory_of_rdf(server: SparqlServer) -> None:
    answer = requests.get(
        server.url + "/sparql",
        params={
            "query": "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
        },
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    counts = {b["g"]["value"]: int(b["n"]["value"]) for b in answer.json()["results"]["bindings"]}
    # One named graph per file that names none, under the base it was built with.
    assert counts["http://any.example/graph/data"] == 6
    assert counts["http://any.example/graph/data2"] == 7
    assert "http://any.example/graph/extra" in counts


def test_stopping_the_server_stops_its_query_workers(any_dist: Path) -> None:
    server = SparqlServer(any_dist, workers=1)
    try:
        requests.get(server.url + "/sparql", params={"query": "ASK {}"}, timeout=30)
        workers = query_workers(server)
        assert len(workers) == 3  # sparql_workers (2) + sparql_reserved_workers (1)
    finally:
        server.stop()
    for pid in workers:
        status = Path(f"/proc/{pid}/status")
        assert not status.exists() or "zombie" in status.read_text()
