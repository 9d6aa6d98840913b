"""The union default graph is a set: a triple stated by two graphs appears once everywhere.

pyoxigraph 0.5.13's use_default_graph_as_union returns such a triple twice (oxigraph#1919);
the build stores the deduplicated union as the default graph instead. The fixture
(tests/fixtures/shared-triple) states two of its five distinct triples in two graphs.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from support import FIXTURES, build_data_only, in_process_app

from publisher.settings import load_settings
from publisher.store import open_store

BASE = "http://127.0.0.1:9/"
DISTINCT_TRIPLES = 5
QUADS = 7
PLACE = BASE + "id/place/khojaly"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture(scope="module")
def shared_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_data_only(
        tmp_path_factory.mktemp("shared") / "dist",
        base=BASE,
        data_dir=FIXTURES / "shared-triple" / "data",
    )


@pytest.fixture(scope="module")
def shared_client(shared_dist: Path):
    return in_process_app(shared_dist).test_client()


def _count(result) -> int:
    return int(next(iter(result))["n"].value)


def _ntriples(body: bytes) -> list[str]:
    return [line for line in body.decode("utf-8").splitlines() if line.strip()]


def test_build_counts_quads_and_distinct_triples(shared_dist: Path) -> None:
    info = json.loads((shared_dist / "build.json").read_text())
    assert (info["quads"], info["triples"]) == (QUADS, DISTINCT_TRIPLES)


@pytest.mark.parametrize("mode", ["disk", "memory"])
def test_count_in_the_store_counts_each_triple_once(shared_dist: Path, mode: str) -> None:
    store = open_store(load_settings({"base_uri": BASE, "store": mode}), shared_dist)
    assert _count(store.query(COUNT_ALL)) == DISTINCT_TRIPLES
    # The named graphs keep every statement with its source.
    assert _count(store.query("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")) == QUADS
    assert len(store.quads()) == QUADS


def test_sparql_count_describe_construct_are_sets(shared_client) -> None:
    def ask(query: str, accept: str) -> bytes:
        response = shared_client.get(
            "/sparql", query_string={"query": query}, headers={"Accept": accept}
        )
        assert response.status_code == 200, response.data[:500]
        return response.data

    results = json.loads(ask(COUNT_ALL, "application/sparql-results+json"))
    assert int(results["results"]["bindings"][0]["n"]["value"]) == DISTINCT_TRIPLES
    described = _ntriples(ask(f"DESCRIBE <{PLACE}>", "application/n-triples"))
    assert len(described) == len(set(described)) == 4
    constructed = _ntriples(
        ask("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "application/n-triples")
    )
    assert len(constructed) == len(set(constructed)) == DISTINCT_TRIPLES
    # A query naming the graphs still sees each graph's statements.
    per_graph = json.loads(
        ask("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }", "application/sparql-results+json")
    )
    assert int(per_graph["results"]["bindings"][0]["n"]["value"]) == QUADS


def test_resource_description_states_a_shared_triple_once(shared_client) -> None:
    lines = _ntriples(shared_client.get("/doc/place/khojaly.nt").data)
    typed = [
        line
        for line in lines
        if line.startswith(f"<{PLACE}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>")
    ]
    assert len(typed) == 1
    # N-Quads: once in the default graph, and once in each graph that states it.
    quads = _ntriples(shared_client.get("/doc/place/khojaly.nq").data)
    typed_quads = [q for q in quads if "22-rdf-syntax-ns#type" in q and q.startswith(f"<{PLACE}>")]
    assert len(typed_quads) == 3
    assert sum(q.endswith("> .") and q.count("> <") == 2 for q in typed_quads) == 1


def test_triple_dumps_hold_each_triple_once(shared_dist: Path) -> None:
    lines = _ntriples(gzip.decompress((shared_dist / "dataset.nt.gz").read_bytes()))
    assert len(lines) == len(set(lines)) == DISTINCT_TRIPLES
    turtle = rdflib.Graph().parse(
        data=gzip.decompress((shared_dist / "dataset.ttl.gz").read_bytes()), format="turtle"
    )
    assert len(turtle) == DISTINCT_TRIPLES
    # The quad dump: the union as its default graph plus every graph's statements.
    quads = list(
        ox.parse(
            gzip.decompress((shared_dist / "dataset.nq.gz").read_bytes()),
            format=ox.RdfFormat.N_QUADS,
        )
    )
    default = [q for q in quads if isinstance(q.graph_name, ox.DefaultGraph)]
    assert len(default) == DISTINCT_TRIPLES
    assert len(quads) - len(default) == QUADS


def test_void_counts_distinct_triples(shared_dist: Path) -> None:
    void = rdflib.Graph().parse(shared_dist / "void.ttl", format="turtle")
    dataset = rdflib.URIRef(BASE + "dataset")
    triples = void.value(dataset, rdflib.URIRef("http://rdfs.org/ns/void#triples"))
    assert int(triples) == DISTINCT_TRIPLES
