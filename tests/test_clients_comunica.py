"""The client matrix, Comunica: `comunica-sparql` (npm @comunica/query-sparql, pinned in
tests/clients/comunica/package-lock.json) against a real `publisher serve`.

`make test` installs it into .node/ (`npm ci`); a bare `pytest` without it fails here with a
message saying so. Comunica is a different stack (Node.js, its own HTTP client, its own
Accept header that ranks N-Quads above Turtle, its own parsers), so it reads the server the
way a browser-side linked-data client does: as a SPARQL endpoint, as a document that is a
source of triples, and as a dump file.
"""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pytest
import rdflib
import requests
from client_checks import PLACE_AZ, PLACE_RU, label_select, reference_dataset, subjects_with
from support import ROOT, ServerProcess

COMUNICA = ROOT / ".node" / "node_modules" / ".bin" / "comunica-sparql"
TIMEOUT_S = 120  # Comunica starts in about 2 s; the bound is for a wedged run, not a target
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def comunica(source: str, query: str) -> list[dict[str, str]]:
    """Run comunica-sparql on one source; the rows of its SPARQL JSON answer (values as text)."""
    assert COMUNICA.exists(), f"{COMUNICA} is missing: run `make test` (or `make .node/.installed`)"
    completed = subprocess.run(
        [str(COMUNICA), source, query, "-t", "application/sparql-results+json"],
        capture_output=True,
        timeout=TIMEOUT_S,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr.decode("utf-8", "replace")[-2000:]
    answer = json.loads(completed.stdout)
    return [
        {name: value["value"] for name, value in row.items()}
        for row in answer["results"]["bindings"]
    ]


def counted(rows: list[dict[str, str]]) -> int:
    return int(rows[0]["n"])


@pytest.fixture(scope="module")
def reference(seed_dist: Path) -> rdflib.Dataset:
    return reference_dataset(seed_dist)


@pytest.mark.parametrize("label", [PLACE_AZ, PLACE_RU], ids=["az", "ru"])
def test_comunica_sparql_endpoint_non_ascii(live_server: ServerProcess, reference, label) -> None:
    rows = comunica(f"sparql@{live_server.url}/sparql", label_select(label))
    assert {row["s"] for row in rows} == subjects_with(reference, label)


@pytest.mark.parametrize("path", ["/doc/event/khojaly-massacre", "/doc/place/khojaly"])
def test_comunica_document_source(live_server: ServerProcess, path: str) -> None:
    """A /doc/ URL as a source: Comunica negotiates (N-Quads first) and reads the default graph."""
    turtle = requests.get(f"{live_server.url}{path}.ttl", timeout=30)
    assert turtle.status_code == 200
    expected = len(rdflib.Graph().parse(data=turtle.content, format="turtle"))
    assert expected > 0
    assert counted(comunica(live_server.url + path, COUNT)) == expected


def test_comunica_thing_source_has_labels(live_server: ServerProcess) -> None:
    """The /id/ IRI itself as a source (303 to the document): the labels are there."""
    rows = comunica(
        live_server.url + "/id/place/khojaly",
        "SELECT ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }",
    )
    assert {str(PLACE_AZ), str(PLACE_RU)} <= {row["label"] for row in rows}


@pytest.mark.parametrize("name", ["dataset.ttl", "dataset.nt"])
def test_comunica_dump_source(live_server: ServerProcess, seed_dist: Path, name: str) -> None:
    """A dump under its plain name (the .gz files are the same bytes, gzip-encoded)."""
    stored = gzip.decompress((seed_dist / f"{name}.gz").read_bytes())
    fmt = "turtle" if name.endswith(".ttl") else "nt"
    expected = len(rdflib.Graph().parse(data=stored, format=fmt))
    assert expected > 0
    assert counted(comunica(f"{live_server.url}/dumps/{name}", COUNT)) == expected
