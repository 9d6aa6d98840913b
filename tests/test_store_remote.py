"""The remote store: `publisher load` into a real Oxigraph server, then read through RemoteStore."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from support import ROOT, ServerProcess, free_port

from publisher.settings import load_settings
from publisher.store import open_store
from publisher.store.base import Store
from publisher.store.remote import RemoteStore


def embedded_store(dist: Path, base: str) -> Store:
    return open_store(load_settings({"base_uri": base, "store": "disk"}), dist)


OXIGRAPH = Path(sys.executable).parent / "oxigraph"


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A writable Oxigraph server on 127.0.0.1 (the `oxigraph` package of the test extra)."""
    assert OXIGRAPH.exists() or shutil.which("oxigraph"), "pip package `oxigraph` is not installed"
    port = free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    process = subprocess.Popen(
        [str(OXIGRAPH), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(url + "/query?query=ASK%7B%7D", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def loaded(oxigraph_server: str, seed_dist: Path) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher",
            "load",
            "--endpoint",
            oxigraph_server + "/store",
            "--dist",
            str(seed_dist),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Loaded" in result.stdout
    return oxigraph_server


def test_load_pushes_every_graph(loaded: str, seed_dist: Path, seed_base: str) -> None:
    remote = RemoteStore(loaded + "/query", base=seed_base)
    embedded = embedded_store(seed_dist, seed_base)
    assert remote.graphs() == embedded.graphs()
    assert len(remote.quads()) == len(embedded.quads())


def test_loading_twice_replaces_rather_than_duplicates(loaded: str, seed_dist: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher",
            "load",
            "--endpoint",
            loaded + "/store",
            "--dist",
            str(seed_dist),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    embedded = embedded_store(seed_dist, "")
    remote = RemoteStore(loaded + "/query", base="")
    assert len(remote.quads()) == len(embedded.quads())


def ground(quads: list[ox.Quad]) -> set[ox.Quad]:
    """The statements without blank nodes (blank-node labels differ between stores)."""
    return {q for q in quads if not any(isinstance(t, ox.BlankNode) for t in (q.subject, q.object))}


def test_remote_descriptions_equal_embedded_ones(
    loaded: str, seed_dist: Path, seed_base: str
) -> None:
    remote = RemoteStore(loaded + "/query", base=seed_base)
    embedded = embedded_store(seed_dist, seed_base)
    subjects = {
        q.subject.value
        for q in embedded.quads()
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(seed_base + "id/")
    }
    assert subjects
    for iri in sorted(subjects):
        here, there = embedded.describe(iri), remote.describe(iri)
        assert len(here.outgoing) == len(there.outgoing), iri
        assert ground(here.outgoing) == ground(there.outgoing), iri
        assert set(here.incoming) == set(there.incoming), iri
        assert set(here.labels) == set(there.labels), iri
        assert remote.exists(iri)
    assert not remote.exists(seed_base + "id/place/nowhere")


@pytest.fixture(scope="module")
def remote_backed_server(loaded: str, seed_dist: Path):
    """`publisher serve --store URL`: a stateless web tier in front of the remote store."""
    server = ServerProcess(seed_dist, env={"PUBLISHER_STORE": loaded + "/query"})
    yield server
    server.stop()


def test_a_server_on_the_remote_store_answers_sparql_and_resources(
    remote_backed_server: ServerProcess, loaded: str, seed_dist: Path, seed_base: str
) -> None:
    url = remote_backed_server.url
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    answer = requests.get(
        url + "/sparql", params={"query": count}, headers={"Accept": "text/csv"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    embedded = embedded_store(seed_dist, seed_base)
    # The union default graph is a set: each distinct triple once (VoID's void:triples),
    # though the seed states some triples in two graphs.
    distinct = json.loads((seed_dist / "build.json").read_text())["triples"]
    assert answer.text.splitlines()[1] == str(distinct)
    assert next(iter(embedded.query(count)))["n"].value == str(distinct)
    remote = RemoteStore(loaded + "/query", base=seed_base)
    assert next(iter(remote.query(count)))["n"].value == str(distinct)
    described = requests.get(
        url + "/sparql",
        params={"query": f"DESCRIBE <{seed_base}id/event/khojaly-massacre>"},
        headers={"Accept": "application/n-triples"},
        timeout=30,
    ).text.splitlines()
    assert described and len(described) == len(set(described))

    by_graph = requests.get(
        url + "/sparql",
        params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    ).json()
    assert {b["g"]["value"] for b in by_graph["results"]["bindings"]} == set(embedded.graphs())

    bad = requests.get(url + "/sparql", params={"query": "SELECT * WHERE {"}, timeout=30)
    assert bad.status_code == 400

    page = requests.get(url + "/doc/place/khojaly", headers={"Accept": "text/turtle"}, timeout=30)
    assert page.status_code == 200
    graph = rdflib.Graph().parse(data=page.text, format="turtle")
    assert (rdflib.URIRef(seed_base + "id/place/khojaly"), None, None) in graph


def test_a_long_chain_is_refused_before_it_reaches_the_remote_store(
    remote_backed_server: ServerProcess, loaded: str
) -> None:
    """3,000 MINUS in a row overflowed the Oxigraph server's stack (`fatal runtime error:
    stack overflow, aborting`): the store every web host reads, gone. The pre-check refuses
    it as the embedded store's endpoint does, and the server is still there."""
    chain = "SELECT * WHERE { ?s ?p ?o " + "MINUS { ?s <urn:x:q> ?o } " * 3_000 + "} LIMIT 1"
    refused = requests.post(
        remote_backed_server.url + "/sparql",
        data={"query": chain},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    assert refused.status_code == 400, refused.text[:300]
    assert refused.json()["setting"] == "sparql_max_operators"
    alive = requests.post(
        loaded + "/query",
        data="ASK { ?s ?p ?o }",
        headers={"Content-Type": "application/sparql-query", "Accept": "application/json"},
        timeout=30,
    )
    assert alive.status_code == 200 and alive.json()["boolean"] is True


def test_pictures_and_sources_table_are_the_same_on_the_remote_store(
    remote_backed_server: ServerProcess, client
) -> None:
    """The HTML pages read the store only through its interface: the remote store gives the
    same timeline, neighbourhood and sources side by side as the embedded one."""
    from page_parsing import TableReader, figures

    for path in ("/", "/doc/event/khojaly-massacre"):
        remote = requests.get(
            remote_backed_server.url + path, headers={"Accept": "text/html"}, timeout=60
        )
        assert remote.status_code == 200, path
        embedded = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
        here, there = figures(embedded), figures(remote.text)
        assert set(here) == set(there) and here, path
        for key in here:
            assert here[key].table_rows == there[key].table_rows, (path, key)
        rows = []
        for text in (embedded, remote.text):
            reader = TableReader("sources-side-by-side")
            reader.feed(text)
            rows.append(reader.rows)
        assert rows[0] == rows[1], path


def test_search_and_reconcile_on_the_remote_store(
    remote_backed_server: ServerProcess, seed_base: str
) -> None:
    """The search index is a file of the build: a web tier on the remote store answers too
    (and /reconcile's property checks go through the remote store)."""
    url = remote_backed_server.url
    hits = requests.get(url + "/search", params={"q": "xocali"}, timeout=30).json()["hits"]
    assert hits[0]["iri"] == seed_base + "id/place/khojaly"
    queries = {
        "q": {
            "query": "Embassy of the Republic of Azerbaijan in Brussels",
            "properties": [{"pid": "schema:location", "v": "Brussels"}],
        }
    }
    answer = requests.post(
        url + "/reconcile", data={"queries": json.dumps(queries)}, timeout=30
    ).json()
    best = answer["q"]["result"][0]
    assert best["id"] == "organisation/embassy-of-azerbaijan-brussels" and best["match"] is True
    assert {"id": "properties", "value": 1.0} in best["features"]


@pytest.mark.parametrize(
    "query",
    [
        "subject={base}id/place/khojaly",
        "predicate=http://www.w3.org/2000/01/rdf-schema%23label&object=%22%D0%A5%D0%BE%D0%B4%D0%B6%D0%B0%D0%BB%D1%8B%22%40ru",
        "graph={base}graph/provenance",
        "predicate=http://www.w3.org/1999/02/22-rdf-syntax-ns%23type&graph={base}fragments%23default-graph",
    ],
    ids=["subject", "non-ascii-object", "named-graph", "default-graph"],
)
def test_fragments_are_the_same_on_the_remote_store(
    remote_backed_server: ServerProcess, client, seed_base: str, query: str
) -> None:
    """/fragments reads the store through its interface (patterns as SPARQL on a remote store):
    the same matches, the same count, page by page."""
    path = "/fragments?" + query.format(base=seed_base)
    headers = {"Accept": "application/n-quads"}
    remote = requests.get(remote_backed_server.url + path, headers=headers, timeout=60)
    assert remote.status_code == 200, remote.text
    embedded = client.get(path, headers=headers)
    assert embedded.status_code == 200

    def statements(body: bytes) -> tuple[set, set]:
        quads = set(ox.parse(body, format=ox.RdfFormat.N_QUADS))
        data = {q for q in quads if not str(q.graph_name).endswith("#metadata>")}
        counts = {q.object.value for q in quads if q.predicate.value.endswith("#totalItems")}
        return data, counts

    remote_data, remote_count = statements(remote.content)
    embedded_data, embedded_count = statements(embedded.data)
    assert remote_data == embedded_data and remote_data
    assert remote_count == embedded_count


@pytest.mark.parametrize(
    ("query", "mentions"),
    [
        ("SELECT * { GRAPH ?g { ?s ?p ?o } }", True),
        ("select * { graph ?g { ?s ?p ?o } }", True),
        ("SELECT * { ?s <http://example.org/graph> 'GRAPH' } # GRAPH", False),
        ("SELECT (COUNT(*) AS ?n) { ?s ?p 'Xocalı'@az }", False),
        ("ASK {}", False),
    ],
)
def test_only_the_graph_keyword_reaches_named_graphs(query: str, mentions: bool) -> None:
    """Whether a union-dataset query can reach named graphs (the remote store then names
    them): the keyword only, not the word inside an IRI, a string or a comment."""
    from publisher.store.remote import _mentions_graph

    assert _mentions_graph(query) is mentions
