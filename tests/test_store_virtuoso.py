"""Virtuoso as the remote store: `publisher load` into a real Virtuoso 7, `publisher serve --store`
on it, and the same answers, limits and refusals as a server on the embedded store.

Two real servers on the seed dataset with the same limits, one on the embedded store and one on
Virtuoso, are asked the same things over HTTP. Skipped (with the reason) where Virtuoso is not
installed; `make test` installs it when it can.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import rdflib.compare
import requests
from client_checks import comparable_rows
from support import ROOT, ServerProcess
from virtuoso_server import DBA_PASSWORD, DBA_USER, VirtuosoServer, virtuoso_available

from publisher.settings import load_settings
from publisher.store import open_store
from publisher.store.remote import RemoteStore, push_graphs

pytestmark = pytest.mark.skipif(virtuoso_available() is not None, reason=str(virtuoso_available()))

UNION_GRAPH = "urn:publisher:union"
CQ_DIR = ROOT / "ontology" / "cq"
JSON = {"Accept": "application/sparql-results+json"}
# The same limits on both servers; small enough to reach with the seed dataset.
LIMITS = {
    "PUBLISHER_SPARQL_TIME_LIMIT_MS": "1500",
    "PUBLISHER_SPARQL_MAX_ROWS": "300",
    "PUBLISHER_SPARQL_MAX_RESPONSE_BYTES": "200000",
}
# Seconds for anything to answer: an order of magnitude above the time limit.
HTTP_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    with VirtuosoServer(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


def publisher_load(virtuoso: VirtuosoServer, dist: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    environment["PUBLISHER_STORE_PASSWORD"] = DBA_PASSWORD
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher",
            "load",
            "--endpoint",
            virtuoso.graph_store_auth_url,
            "--user",
            DBA_USER,
            "--union-graph",
            UNION_GRAPH,
            "--dist",
            str(dist),
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def loaded(virtuoso: VirtuosoServer, seed_dist: Path) -> VirtuosoServer:
    result = publisher_load(virtuoso, seed_dist)
    assert result.returncode == 0, result.stderr
    assert "Loaded" in result.stdout
    return virtuoso


@pytest.fixture(scope="module")
def embedded_server(seed_dist: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(seed_dist, workers=1, env=LIMITS, log_dir=seed_dist.parent)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def virtuoso_server(loaded: VirtuosoServer, seed_dist: Path) -> Iterator[ServerProcess]:
    """`publisher serve --store <Virtuoso /sparql>`: a stateless web tier in front of it."""
    server = ServerProcess(
        seed_dist,
        workers=1,
        env={
            **LIMITS,
            "PUBLISHER_STORE": loaded.sparql_url,
            "PUBLISHER_STORE_UNION_GRAPH": UNION_GRAPH,
        },
        log_dir=seed_dist.parent,
    )
    yield server
    server.stop()


def remote_store(virtuoso: VirtuosoServer, base: str) -> RemoteStore:
    return RemoteStore(virtuoso.sparql_url, base=base, union_graph=UNION_GRAPH)


def solutions(response: requests.Response) -> list[str]:
    """A SPARQL JSON answer as a sorted list of rows (blank node labels blanked)."""
    assert response.status_code == 200, response.text
    return comparable_rows(response.content)


def ask_both(
    embedded: ServerProcess, remote: ServerProcess, params: dict, headers: dict | None = None
) -> tuple[requests.Response, requests.Response]:
    return tuple(
        requests.get(
            server.url + "/sparql",
            params=params,
            headers=headers or JSON,
            timeout=HTTP_TIMEOUT_S,
        )
        for server in (embedded, remote)
    )


# -- loading -----------------------------------------------------------------------------------


def test_load_writes_every_graph_and_the_union(
    loaded: VirtuosoServer, seed_dist: Path, seed_base: str
) -> None:
    embedded = open_store(load_settings({"base_uri": seed_base, "store": "disk"}), seed_dist)
    remote = remote_store(loaded, seed_base)
    # Virtuoso's own graphs (virtrdf#...) and the union graph are not graphs of the dataset.
    assert remote.graphs() == embedded.graphs()
    assert sorted(map(str, remote.quads())) == sorted(map(str, embedded.quads()))
    distinct = json.loads((seed_dist / "build.json").read_text())["triples"]
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert next(iter(remote.query(count)))["n"].value == str(distinct)


def test_loading_again_and_bulk_loading_give_the_same_dataset(
    loaded: VirtuosoServer, seed_dist: Path, seed_base: str
) -> None:
    remote = remote_store(loaded, seed_base)
    before = sorted(map(str, remote.quads()))
    assert publisher_load(loaded, seed_dist).returncode == 0
    # Virtuoso's own bulk loader on the N-Quads dump: its default graph (the union) goes into
    # the union graph, the named graphs into themselves.
    seconds = loaded.bulk_load(seed_dist / "dataset.nq.gz", graph=UNION_GRAPH)
    assert 0 < seconds < HTTP_TIMEOUT_S * 4
    again = remote_store(loaded, seed_base)
    assert sorted(map(str, again.quads())) == before
    distinct = json.loads((seed_dist / "build.json").read_text())["triples"]
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert next(iter(again.query(count)))["n"].value == str(distinct)


def test_load_in_parts_gives_the_same_dataset(
    loaded: VirtuosoServer, seed_dist: Path, seed_base: str
) -> None:
    """Big graphs go in parts (PUT, then POSTs): Virtuoso resets a 401'd body of megabytes."""
    remote = remote_store(loaded, seed_base)
    before = sorted(map(str, remote.quads()))
    counts = push_graphs(
        seed_dist,
        endpoint=loaded.graph_store_auth_url,
        union_graph=UNION_GRAPH,
        user=DBA_USER,
        password=DBA_PASSWORD,
        chunk_triples=100,
    )
    assert max(counts.values()) > 100  # some graph really went in several parts
    assert sorted(map(str, remote_store(loaded, seed_base).quads())) == before


def test_load_without_credentials_is_refused_by_the_authenticated_endpoint(
    loaded: VirtuosoServer, seed_dist: Path
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher",
            "load",
            "--endpoint",
            loaded.graph_store_auth_url,
            "--union-graph",
            UNION_GRAPH,
            "--dist",
            str(seed_dist),
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "401" in result.stderr


# -- the same answers --------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(CQ_DIR.glob("*.rq")), ids=lambda p: p.stem)
def test_competency_questions_answer_the_same(
    embedded_server: ServerProcess, virtuoso_server: ServerProcess, path: Path
) -> None:
    here, there = ask_both(embedded_server, virtuoso_server, {"query": path.read_text()})
    assert solutions(here) == solutions(there)
    assert solutions(here), path.name


def test_union_default_graph_has_no_duplicates_and_graphs_are_the_datasets(
    embedded_server: ServerProcess, virtuoso_server: ServerProcess, seed_dist: Path
) -> None:
    distinct = json.loads((seed_dist / "build.json").read_text())["triples"]
    for query in (
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p",
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    ):
        here, there = ask_both(embedded_server, virtuoso_server, {"query": query})
        assert solutions(here) == solutions(there), query
    count = solutions(ask_both(embedded_server, virtuoso_server, {"query": query})[1])
    assert not any("virtrdf" in row or "urn:publisher" in row for row in count)
    here, there = ask_both(
        embedded_server,
        virtuoso_server,
        {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
        headers={"Accept": "text/csv"},
    )
    assert here.text.splitlines()[1] == there.text.splitlines()[1] == str(distinct)


def test_protocol_datasets_answer_the_same(
    embedded_server: ServerProcess, virtuoso_server: ServerProcess, seed_base: str
) -> None:
    source = seed_base + "graph/press-release-2023-02-26"
    for params in (
        {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "default-graph-uri": source},
        {"query": "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "default-graph-uri": source},
        {
            "query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
            "named-graph-uri": source,
        },
        {"query": f"SELECT (COUNT(*) AS ?n) FROM <{source}> WHERE {{ ?s ?p ?o }}"},
    ):
        here, there = ask_both(embedded_server, virtuoso_server, params)
        assert solutions(here) == solutions(there), params


def test_non_ascii_literals_in_queries_and_results(
    embedded_server: ServerProcess, virtuoso_server: ServerProcess
) -> None:
    for literal in ('"Xocalı"@az', '"Ходжалы"@ru'):
        query = f"SELECT ?s ?p WHERE {{ ?s ?p {literal} }}"
        here, there = ask_both(embedded_server, virtuoso_server, {"query": query})
        assert solutions(here) == solutions(there) != []
    query = (
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?s ?label WHERE { ?s skos:prefLabel ?label "
        'FILTER(LANG(?label) IN ("az", "ru") && CONTAINS(?label, "Xocal") || '
        'CONTAINS(?label, "Ходжал")) }'
    )
    here, there = ask_both(embedded_server, virtuoso_server, {"query": query})
    assert solutions(here) == solutions(there)
    for accept in ("application/sparql-results+xml", "text/tab-separated-values", "text/csv"):
        here, there = ask_both(
            embedded_server, virtuoso_server, {"query": query}, {"Accept": accept}
        )
        assert here.status_code == there.status_code == 200
        assert "Xocalı" in there.text and "Ходжалы" in there.text
        if not accept.endswith("xml"):  # one row a line
            assert sorted(here.text.splitlines()) == sorted(there.text.splitlines())


def test_construct_and_describe_give_the_same_graph(
    embedded_server: ServerProcess, virtuoso_server: ServerProcess, seed_base: str
) -> None:
    for query in (
        f"DESCRIBE <{seed_base}id/place/khojaly>",
        'CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(LANG(?o) IN ("az", "ru")) }',
    ):
        here, there = ask_both(
            embedded_server, virtuoso_server, {"query": query}, {"Accept": "text/turtle"}
        )
        assert here.status_code == there.status_code == 200, there.text
        mine = rdflib.Graph().parse(data=here.text, format="turtle")
        theirs = rdflib.Graph().parse(data=there.text, format="turtle")
        assert len(mine) == len(theirs) > 0
        assert rdflib.compare.isomorphic(mine, theirs), query


@pytest.mark.parametrize(
    ("suffix", "parser"), [(".ttl", "turtle"), (".jsonld", "json-ld"), (".nt", "nt")]
)
def test_resource_descriptions_are_the_same_triples(
    embedded_server: ServerProcess,
    virtuoso_server: ServerProcess,
    seed_base: str,
    suffix: str,
    parser: str,
) -> None:
    for path in (
        "doc/place/khojaly",
        "doc/event/khojaly-massacre",
        "doc/document/press-release-2023-02-26",
    ):
        graphs = []
        for server in (embedded_server, virtuoso_server):
            response = requests.get(f"{server.url}/{path}{suffix}", timeout=HTTP_TIMEOUT_S)
            assert response.status_code == 200, response.text
            graphs.append(rdflib.Graph().parse(data=response.content, format=parser))
        assert len(graphs[0]) == len(graphs[1]) > 0, path
        assert rdflib.compare.isomorphic(*graphs), path


def test_resource_html_pages_are_the_same(
    embedded_server: ServerProcess, virtuoso_server: ServerProcess
) -> None:
    for path in ("doc/place/khojaly", "doc/event/khojaly-massacre"):
        pages = [
            requests.get(
                f"{server.url}/{path}", headers={"Accept": "text/html"}, timeout=HTTP_TIMEOUT_S
            )
            for server in (embedded_server, virtuoso_server)
        ]
        assert pages[0].status_code == pages[1].status_code == 200
        assert "Xocalı" in pages[1].text
        # The same links and the same words; the order of statements within a block follows
        # each store's own order.
        for pattern in (r'href="[^"]*"', r"[^<>\s]+(?=[^<>]*<)"):
            assert Counter(re.findall(pattern, pages[0].text)) == Counter(
                re.findall(pattern, pages[1].text)
            ), (path, pattern)


# -- the same limits and refusals --------------------------------------------------------------


def test_time_limit_stops_the_query_and_no_partial_answer_passes(
    embedded_server: ServerProcess, virtuoso_server: ServerProcess
) -> None:
    # Not a COUNT of the product: on an idle machine Virtuoso counts the 686^3 rows within the limit
    # (a complete, correct answer, which passes). These two it can only evaluate row by row.
    for query in (
        "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?i",
        "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
        'FILTER(CONCAT(STR(?c), STR(?f), STR(?i)) = "never") }',
    ):
        here, there = ask_both(embedded_server, virtuoso_server, {"query": query})
        assert here.status_code == there.status_code == 504, (here.text, there.text)
        assert "sparql_time_limit_ms" in there.text
    # A product that streams: both cut it at the row limit, neither waits for the rest.
    product = "SELECT ?a ?i WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    for response in ask_both(embedded_server, virtuoso_server, {"query": product}):
        assert response.status_code == 200, response.text
        assert response.headers["X-SPARQL-Rows"] == LIMITS["PUBLISHER_SPARQL_MAX_ROWS"]
        assert "setting=sparql_max_rows" in response.headers["X-SPARQL-Truncated"]
    # Virtuoso stopped it (its "anytime" answer was refused), and it answers again at once.
    assert solutions(ask_both(embedded_server, virtuoso_server, {"query": "ASK {}"})[1])


def test_row_and_byte_limits_cut_the_same_way(
    embedded_server: ServerProcess, virtuoso_server: ServerProcess
) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    here, there = ask_both(embedded_server, virtuoso_server, {"query": query})
    for response in (here, there):
        assert response.headers["X-SPARQL-Rows"] == LIMITS["PUBLISHER_SPARQL_MAX_ROWS"]
        assert "setting=sparql_max_rows" in response.headers["X-SPARQL-Truncated"]
    # Rows of a few kB each (the press release's whole text): the byte limit cuts first.
    big = (
        "SELECT ?a ?b ?c WHERE { ?d <https://schema.org/text> ?a . ?d a ?type . "
        "?s <https://schema.org/text> ?b . ?t <https://schema.org/text> ?c "
        "FILTER(STRLEN(?a) > 1000) } LIMIT 250"
    )
    here, there = ask_both(embedded_server, virtuoso_server, {"query": big})
    for response in (here, there):
        assert "setting=sparql_max_response_bytes" in response.headers["X-SPARQL-Truncated"]
        assert len(response.content) <= int(LIMITS["PUBLISHER_SPARQL_MAX_RESPONSE_BYTES"]) + 500


def test_refusals_are_the_same(
    embedded_server: ServerProcess, virtuoso_server: ServerProcess
) -> None:
    elsewhere = "http://127.0.0.1:9/data"
    refused = [
        f"SELECT * WHERE {{ SERVICE <{elsewhere}> {{ ?s ?p ?o }} }}",
        f"SELECT * FROM <{elsewhere}> WHERE {{ ?s ?p ?o }}",
        f"LOAD <{elsewhere}>",
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "CLEAR ALL",
        "SELECT * WHERE {",
        # Virtuoso's own pragmas are not SPARQL: refused before they reach it.
        "define input:default-graph-uri <urn:publisher:union> SELECT * WHERE { ?s ?p ?o }",
        # A chain over sparql_max_operators (engines recurse once per link).
        "SELECT * WHERE { ?s ?p ?o " + "MINUS { ?s <urn:x:q> ?o } " * 3_000 + "}",
    ]
    for query in refused:
        here, there = ask_both(embedded_server, virtuoso_server, {"query": query})
        assert 400 <= here.status_code < 500, query
        assert here.status_code == there.status_code, (query, there.text)
    for data in ({"update": "CLEAR ALL"}, {"update": f"LOAD <{elsewhere}>"}):
        statuses = [
            requests.post(server.url + "/sparql", data=data, timeout=HTTP_TIMEOUT_S).status_code
            for server in (embedded_server, virtuoso_server)
        ]
        assert statuses[0] == statuses[1] == 403
    # Nothing reached Virtuoso's data.
    assert solutions(
        ask_both(embedded_server, virtuoso_server, {"query": "ASK { <urn:a> ?p ?o }"})[1]
    ) == ["False"]


def test_a_chain_too_deep_for_virtuoso_is_a_400_naming_the_setting(
    virtuoso_server: ServerProcess,
) -> None:
    """Under the operator limit, yet deeper than Virtuoso recurses: its SQ200 (a 500) is the
    query's fault, not the store's (503)."""
    chain = "SELECT * WHERE { ?s ?p ?o " + "MINUS { ?s <urn:x:q> ?o } " * 999 + "} LIMIT 1"
    answer = requests.post(
        virtuoso_server.url + "/sparql",
        data={"query": chain},
        headers=JSON,
        timeout=HTTP_TIMEOUT_S,
    )
    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["setting"] == "sparql_max_operators"
    assert "SQ200" in answer.json()["message"]


def test_answers_passed_through_are_sparql_1_1(
    embedded_server: ServerProcess, virtuoso_server: ServerProcess
) -> None:
    """Virtuoso's own bytes go out when they are the answer: fixed to SPARQL 1.1 JSON."""
    query = (
        "SELECT ?s ?o WHERE { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o) || "
        "DATATYPE(?o) = <http://www.w3.org/2001/XMLSchema#integer>) }"
    )
    here, there = ask_both(embedded_server, virtuoso_server, {"query": query})
    assert solutions(here) == solutions(there) != []
    assert '"typed-literal"' not in there.text and "nodeID://" not in there.text
    assert here.headers["X-SPARQL-Rows"] == there.headers["X-SPARQL-Rows"]
    for query in (
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(false) }",
        'CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(?o = "Xocalı"@az) }',
        "ASK { ?s ?p ?o }",
    ):
        accept = "application/n-triples" if query.startswith("CONSTRUCT") else JSON["Accept"]
        here, there = ask_both(
            embedded_server, virtuoso_server, {"query": query}, {"Accept": accept}
        )
        assert there.status_code == 200, there.text
        assert here.headers["X-SPARQL-Rows"] == there.headers["X-SPARQL-Rows"], query
        if accept == "application/n-triples":
            parsed = [ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES) for r in (here, there)]
            assert {str(t) for t in parsed[0]} == {str(t) for t in parsed[1]}
