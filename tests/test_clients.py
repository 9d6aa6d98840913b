"""The client matrix: independent client software against a real `publisher serve`.

Clients: SPARQLWrapper (every return format, GET, form POST and direct POST), rdflib (every
variant of several documents read as a triple-only client reads it; SPARQLStore against
/sparql) and pyld (toRDF of every JSON-LD the server writes). Each query spells the data's
own Azerbaijani or Russian labels in its text, and each answer is checked against rdflib's
reading of the N-Quads dump (see client_checks.py), never against a hard-coded answer.

Comunica (a Node.js client) is in test_clients_comunica.py.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

import pytest
import rdflib
import requests
from client_checks import (
    DOCUMENTS,
    PLACE_AZ,
    PLACE_RU,
    PREFIXES,
    VARIANTS,
    base_of,
    difference,
    label_select,
    reference_dataset,
    same_graph,
    subjects_with,
    union_graph,
)
from pyld import jsonld
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDF,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)
from support import ServerProcess

TIMEOUT_S = 30


@pytest.fixture(scope="module")
def reference(seed_dist: Path) -> rdflib.Dataset:
    return reference_dataset(seed_dist)


@pytest.fixture(scope="module")
def base(seed_dist: Path) -> str:
    return base_of(seed_dist)


def fetch(url: str, *, accept: str | None = None) -> bytes:
    headers = {"Accept": accept} if accept else {}
    response = requests.get(url, headers=headers, timeout=TIMEOUT_S)
    assert response.status_code == 200, f"{url}: {response.status_code} {response.text[:300]}"
    return response.content


def turtle_of(url: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=fetch(url, accept="text/turtle"), format="turtle")


# -- SPARQLWrapper ---------------------------------------------------------------------------
# (label, how the request is sent): GET with a query string, POST as a form, POST directly.
METHODS = {
    "GET": ("GET", URLENCODED),
    "POST-form": (POST, URLENCODED),
    "POST-direct": (POST, POSTDIRECTLY),
}
LABELS = {"az": PLACE_AZ, "ru": PLACE_RU}


def wrapper(server: ServerProcess, method: str, return_format: str) -> SPARQLWrapper:
    http_method, request_method = METHODS[method]
    client = SPARQLWrapper(server.url + "/sparql")
    client.setMethod(http_method)
    client.setRequestMethod(request_method)
    client.setReturnFormat(return_format)
    client.setTimeout(TIMEOUT_S)
    return client


def run(client: SPARQLWrapper, query: str):
    client.setQuery(query)
    with warnings.catch_warnings():
        # SPARQLWrapper warns when the Content-Type is not the one it expected; that is a
        # failure here, not noise. (Its warning that it sends `Accept: */*` for the RDF
        # return format is about itself: then only `format=rdf` names what it wants.)
        warnings.simplefilter("error", RuntimeWarning)
        warnings.filterwarnings("ignore", "Sending Accept header", RuntimeWarning)
        return client.query().convert()


def select_rows(result, return_format: str) -> list[dict[str, rdflib.term.Node]]:
    """The rows of a converted SELECT result, read back with rdflib's result parsers."""
    if return_format == JSON:
        data = json.dumps(result).encode("utf-8")
        parsed = rdflib.query.Result.parse(io.BytesIO(data), format="json")
    elif return_format == XML:
        data = result.toxml(encoding="utf-8")
        parsed = rdflib.query.Result.parse(io.BytesIO(data), format="xml")
    elif return_format == TSV:
        parsed = rdflib.query.Result.parse(io.BytesIO(result), format="tsv")
    else:  # CSV carries no term types: read it as strings
        reader = csv.DictReader(io.StringIO(result.decode("utf-8")))
        return [{k: rdflib.Literal(v) for k, v in row.items()} for row in reader]
    return [{str(var): value for var, value in row.asdict().items()} for row in parsed]


def ask_answer(result, return_format: str) -> bool:
    if return_format == JSON:
        return result["boolean"]
    if return_format == XML:
        text = result.getElementsByTagName("boolean")[0].firstChild.data
        return text.strip() == "true"
    # CSV / TSV: the boolean on the last line (some servers write a header line before it)
    lines = [line for line in result.decode("utf-8").splitlines() if line.strip()]
    return lines[-1].strip().lower() == "true"


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("return_format", [JSON, XML, CSV, TSV])
@pytest.mark.parametrize("language", sorted(LABELS))
def test_sparqlwrapper_select_non_ascii(
    live_server: ServerProcess, reference, method: str, return_format: str, language: str
) -> None:
    label = LABELS[language]
    expected = subjects_with(reference, label)
    assert expected, f"the data has no resource labelled {label.n3()}"
    result = run(wrapper(live_server, method, return_format), label_select(label))
    got = {str(row["s"]) for row in select_rows(result, return_format)}
    assert got == expected


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("return_format", [JSON, XML, TSV])
def test_sparqlwrapper_select_keeps_terms(
    live_server: ServerProcess, reference, method: str, return_format: str
) -> None:
    """The label comes back as the same term: language tag and all (CSV carries no tags)."""
    query = (
        f"{PREFIXES}SELECT ?label WHERE {{ ?s rdfs:label ?label "
        f"FILTER(LANG(?label) IN ('az', 'ru') && CONTAINS(STR(?label), 'Хо')) }}"
    )
    expected = [{str(k): v for k, v in row.asdict().items()} for row in reference.query(query)]
    result = run(wrapper(live_server, method, return_format), query)
    rows = select_rows(result, return_format)
    assert sorted(map(sorted_items, rows)) == sorted(map(sorted_items, expected))
    assert PLACE_RU in {row["label"] for row in rows}


def sorted_items(row: dict) -> list:
    return sorted((k, v.n3()) for k, v in row.items())


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("return_format", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_ask_non_ascii(
    live_server: ServerProcess, method: str, return_format: str
) -> None:
    client = wrapper(live_server, method, return_format)
    assert ask_answer(run(client, f"ASK {{ ?s ?p {PLACE_AZ.n3()} }}"), return_format) is True
    assert ask_answer(run(client, 'ASK { ?s ?p "Xocalı"@ru }'), return_format) is False


# returnFormat -> how its converted result becomes a graph
RDF_RETURN_FORMATS = [TURTLE, N3, XML, RDFXML, RDF, JSONLD]


def as_graph(result, return_format: str) -> rdflib.Graph:
    """The triples of a converted CONSTRUCT/DESCRIBE result (its default graph)."""
    if isinstance(result, bytes):  # TURTLE / N3 (and N-Triples) come back as bytes
        return rdflib.Graph().parse(data=result, format="turtle")
    graph = rdflib.Graph()
    # SPARQLWrapper parses RDF/XML and JSON-LD into a ConjunctiveGraph; a triple client reads
    # the default graph of it.
    for triple in result.default_context.triples((None, None, None)):
        graph.add(triple)
    return graph


def construct_place(label: rdflib.Literal) -> str:
    return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s rdfs:label {label.n3()} ; ?p ?o }}"


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("return_format", RDF_RETURN_FORMATS)
def test_sparqlwrapper_construct(
    live_server: ServerProcess, reference, method: str, return_format: str
) -> None:
    query = PREFIXES + construct_place(PLACE_RU)
    expected = reference.query(query).graph
    assert len(expected) > 0
    got = as_graph(run(wrapper(live_server, method, return_format), query), return_format)
    assert same_graph(got, expected), difference(got, expected)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_sparqlwrapper_construct_ntriples(live_server: ServerProcess, reference, method) -> None:
    """N-Triples: SPARQLWrapper has no constant for it; N3 with the N-Triples Accept type."""
    query = PREFIXES + construct_place(PLACE_AZ)
    client = wrapper(live_server, method, N3)
    client.setOnlyConneg(True)
    client.addCustomHttpHeader("Accept", "application/n-triples")
    client.setQuery(query)
    response = client.query()
    assert response.info()["content-type"].startswith("application/n-triples")
    got = rdflib.Graph().parse(data=response.convert(), format="nt")
    expected = reference.query(query).graph
    assert same_graph(got, expected), difference(got, expected)


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("return_format", RDF_RETURN_FORMATS)
def test_sparqlwrapper_describe(
    live_server: ServerProcess, reference, base: str, method: str, return_format: str
) -> None:
    """DESCRIBE of the place found by its Russian label holds all its own statements."""
    place = next(iter(subjects_with(reference, PLACE_RU)))
    query = f"{PREFIXES}DESCRIBE ?s WHERE {{ ?s rdfs:label {PLACE_RU.n3()} }}"
    got = as_graph(run(wrapper(live_server, method, return_format), query), return_format)
    own = rdflib.Graph()
    for triple in union_graph(reference).triples((rdflib.URIRef(place), None, None)):
        own.add(triple)
    assert len(own) > 0
    missing = [t for t in own if t not in got]
    assert not missing, f"DESCRIBE lacks {len(missing)} of the place's {len(own)} statements"


# -- rdflib: every variant, read as a triple-only client reads it ------------------------------
@pytest.mark.parametrize("extension", sorted(VARIANTS))
@pytest.mark.parametrize("document", DOCUMENTS)
def test_rdflib_default_graph_equals_turtle(
    live_server: ServerProcess, document: str, extension: str
) -> None:
    expected = turtle_of(f"{live_server.url}{document}.ttl")
    assert len(expected) > 0
    body = fetch(f"{live_server.url}{document}.{extension}")
    got = rdflib.Graph().parse(data=body, format=VARIANTS[extension])
    assert same_graph(got, expected), difference(got, expected)


@pytest.mark.parametrize(
    "accept", ["application/n-quads", "application/ld+json", "application/trig"]
)
def test_rdflib_negotiated_quads_default_graph(live_server: ServerProcess, accept: str) -> None:
    """The same through content negotiation (the /id/ -> 303 -> /doc/ path a crawler takes)."""
    document = "/id/event/khojaly-massacre"
    expected = turtle_of(live_server.url + document)
    response = requests.get(live_server.url + document, headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200
    fmt = {"application/n-quads": "nquads", "application/ld+json": "json-ld"}.get(accept, "trig")
    got = rdflib.Graph().parse(data=response.content, format=fmt)
    assert same_graph(got, expected), difference(got, expected)


@pytest.mark.parametrize("extension", ["nq", "trig", "jsonld"])
def test_quad_variants_still_name_source_graphs(
    live_server: ServerProcess, reference, extension: str
) -> None:
    """The quad formats keep saying which source graph holds each statement."""
    document = "/doc/event/khojaly-massacre"
    dataset = rdflib.Dataset()
    dataset.parse(
        data=fetch(f"{live_server.url}{document}.{extension}"), format=VARIANTS[extension]
    )
    named = {str(g) for *_spo, g in dataset.quads((None, None, None, None))} - {
        str(rdflib.graph.DATASET_DEFAULT_GRAPH_ID)
    }
    reference_graphs = {str(g.identifier) for g in reference.graphs()}
    assert named, "no statement is attributed to a source graph"
    assert named <= reference_graphs


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
@pytest.mark.parametrize("language", sorted(LABELS))
def test_rdflib_sparqlstore_non_ascii(
    live_server: ServerProcess, reference, method: str, language: str
) -> None:
    label = LABELS[language]
    store = SPARQLStore(query_endpoint=live_server.url + "/sparql", method=method, timeout=30)
    graph = rdflib.Graph(store=store)
    got = {str(row[0]) for row in graph.query(label_select(label))}
    assert got == subjects_with(reference, label)
    # and a triple pattern through the store API (rdflib writes the query itself)
    triples = list(graph.triples((None, rdflib.RDFS.label, label)))
    assert {str(s) for s, _p, _o in triples} == subjects_with(reference, label)


# -- pyld: toRDF of every JSON-LD the server writes ------------------------------------------
def pyld_default_graph(body: bytes, *, base: str) -> rdflib.Graph:
    document = json.loads(body)
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "base": base})
    dataset = rdflib.Dataset()
    dataset.parse(data=nquads, format="nquads")
    graph = rdflib.Graph()
    for triple in dataset.default_context.triples((None, None, None)):
        graph.add(triple)
    return graph


@pytest.mark.parametrize("document", DOCUMENTS)
def test_pyld_document_variants(live_server: ServerProcess, document: str) -> None:
    url = f"{live_server.url}{document}"
    expected = turtle_of(url + ".ttl")
    got = pyld_default_graph(fetch(url + ".jsonld"), base=url)
    assert len(got) > 0, "pyld finds no triple in the default graph"
    assert same_graph(got, expected), difference(got, expected)


@pytest.mark.parametrize("path", ["/", "/.well-known/void", "/sparql"])
def test_pyld_negotiated_json_ld(live_server: ServerProcess, path: str) -> None:
    """The home page's dataset description, VoID and the SPARQL service description."""
    url = live_server.url + path
    expected = turtle_of(url)
    got = pyld_default_graph(fetch(url, accept="application/ld+json"), base=url)
    assert len(got) > 0, "pyld finds no triple in the default graph"
    assert same_graph(got, expected), difference(got, expected)


@pytest.mark.parametrize("form", ["CONSTRUCT", "DESCRIBE"])
def test_pyld_query_results(live_server: ServerProcess, form: str) -> None:
    if form == "CONSTRUCT":
        query = PREFIXES + construct_place(PLACE_AZ)
    else:
        query = f"{PREFIXES}DESCRIBE ?s WHERE {{ ?s rdfs:label {PLACE_AZ.n3()} }}"
    url = live_server.url + "/sparql"

    def answer(accept: str) -> bytes:
        response = requests.post(
            url, data=query.encode("utf-8"), timeout=30,
            headers={"Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept},
        )  # fmt: skip
        assert response.status_code == 200, response.text[:300]
        return response.content

    expected = rdflib.Graph().parse(data=answer("text/turtle"), format="turtle")
    got = pyld_default_graph(answer("application/ld+json"), base=url)
    assert len(got) > 0
    assert same_graph(got, expected), difference(got, expected)
