"""Every result format parses back to the same answer, and matches the W3C expected results.

Runs the real app in-process (its query workers are real processes) on the W3C conformance
dataset; the other side of each check is an independent parser: rdflib's result and RDF
parsers, or the standard library's json / xml / csv.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from rdf_checks import RDFLIB_FORMATS
from rdflib.compare import isomorphic
from support import W3C, in_process_app

from publisher import formats
from publisher.store.workers import shutdown_all

FORMATS_GRAPH = "urn:x-conformance:formats"
JSON_RES_GRAPH = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/json-res/data.ttl"
CSV_TSV_GRAPHS = {
    "data.ttl": "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/csv-tsv-res/data.ttl",
    "data2.ttl": "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/csv-tsv-res/data2.ttl",
}
SELECT_ALL = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{FORMATS_GRAPH}> {{ ?s ?p ?o }} }}"
CONSTRUCT_ALL = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{FORMATS_GRAPH}> {{ ?s ?p ?o }} }}"


@pytest.fixture(scope="module")
def client(conformance_dist: Path) -> Iterator:
    yield in_process_app(conformance_dist).test_client()
    shutdown_all()


@pytest.fixture(scope="module")
def small_client(conformance_dist: Path) -> Iterator:
    """The same dataset with a limit of 3 rows, to see truncation."""
    yield in_process_app(conformance_dist, sparql_max_rows=3).test_client()
    shutdown_all()


def ask(client, query: str, fmt: formats.Format, **params: str):
    response = client.get(
        "/sparql", query_string={"query": query, **params}, headers={"Accept": fmt.media_type}
    )
    assert response.status_code == 200, response.data
    assert response.headers["Content-Type"].split(";")[0] == fmt.media_type
    return response


def rows(data: bytes, fmt: formats.Format) -> list[tuple]:
    """Rows as tuples of (variable, rdflib term) sorted by variable, via rdflib's parsers.

    Sorted by name because column order of SELECT * is the implementation's choice.
    """
    result = rdflib.query.Result.parse(io.BytesIO(data), format=fmt.name)
    names = [str(v) for v in result.vars or []]
    return [
        tuple(sorted((name, _plain(row[i])) for i, name in enumerate(names)))  # type: ignore[index]
        for row in result
    ]


def _plain(term):
    """Comparable form: blank nodes by label, literals by value (parsers normalise lexically)."""
    if isinstance(term, rdflib.BNode):
        return ("bnode", str(term))
    if isinstance(term, rdflib.Literal):
        value = term.value if term.value is not None else str(term)
        return ("literal", repr(value), term.datatype, term.language)
    return term


def test_select_parses_back_identically_in_json_xml_tsv(client) -> None:
    reference = rows(
        ask(client, SELECT_ALL + " ORDER BY ?s ?p ?o", formats.SPARQL_JSON).data,
        formats.SPARQL_JSON,
    )
    assert len(reference) > 30
    for fmt in (formats.SPARQL_XML, formats.TSV):
        got = rows(ask(client, SELECT_ALL + " ORDER BY ?s ?p ?o", fmt).data, fmt)
        assert got == reference, fmt.name
    # Spot checks of the hard cases against the source data.
    objects = {dict(row)["o"] for row in reference}
    assert _plain(rdflib.Literal('quote " backslash \\ tab \t newline \n end')) in objects
    assert _plain(rdflib.Literal("snowman ☃, emoji 😀, CJK 漢字")) in objects
    assert _plain(rdflib.Literal("machin", lang="fr-ca")) in objects
    assert rdflib.URIRef("http://example.org/conformance/café") in objects


def test_select_as_csv_has_the_same_values(client) -> None:
    query = SELECT_ALL + " ORDER BY ?s ?p ?o"
    reference = json.loads(ask(client, query, formats.SPARQL_JSON).data)
    expected = [
        [("_:" if b[n]["type"] == "bnode" else "") + b[n]["value"] for n in ("s", "p", "o")]
        for b in reference["results"]["bindings"]
    ]
    text = ask(client, query, formats.CSV).data.decode("utf-8")
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == ["s", "p", "o"]
    assert table[1:] == expected


def test_select_as_xml_is_well_formed_sparql_results(client) -> None:
    data = ask(client, SELECT_ALL, formats.SPARQL_XML).data
    root = ET.fromstring(data)
    namespace = "{http://www.w3.org/2005/sparql-results#}"
    assert [v.get("name") for v in root.iter(namespace + "variable")] == ["s", "p", "o"]
    assert len(list(root.iter(namespace + "result"))) == len(rows(data, formats.SPARQL_XML))


@pytest.mark.parametrize("fmt", formats.RESULT_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (f"ASK {{ GRAPH <{FORMATS_GRAPH}> {{ ?s ?p 42 }} }}", True),
        ("ASK { FILTER(false) }", False),
    ],
)
def test_ask_in_every_results_format(
    client, fmt: formats.Format, query: str, expected: bool
) -> None:
    data = ask(client, query, fmt).data
    if fmt is formats.SPARQL_JSON:
        assert json.loads(data)["boolean"] is expected
    elif fmt is formats.SPARQL_XML:
        assert rdflib.query.Result.parse(io.BytesIO(data), format="xml").askAnswer is expected
    else:
        assert data.decode().strip() == str(expected).lower()


@pytest.mark.parametrize("fmt", formats.RDF_FORMATS, ids=lambda f: f.name)
def test_construct_parses_back_isomorphic_in_every_rdf_format(client, fmt: formats.Format) -> None:
    reference = rdflib.Graph().parse(
        data=ask(client, CONSTRUCT_ALL, formats.N_TRIPLES).data, format="nt"
    )
    assert len(reference) > 30
    parsed = rdflib.Dataset()
    parsed.parse(data=ask(client, CONSTRUCT_ALL, fmt).data, format=RDFLIB_FORMATS[fmt.name])
    graph = rdflib.Graph()
    for s, p, o, _g in parsed.quads((None, None, None, None)):
        graph.add((s, p, o))
    assert isomorphic(graph, reference), fmt.name


def test_describe_answers_rdf(client) -> None:
    data = ask(client, "DESCRIBE <http://example.org/conformance/thing>", formats.TURTLE).data
    graph = rdflib.Graph().parse(data=data, format="turtle")
    assert (
        rdflib.URIRef("http://example.org/conformance/thing"),
        rdflib.RDFS.label,
        rdflib.Literal("Gerät", lang="de"),
    ) in graph


def _normalise_bnodes(rows_: list[tuple]) -> list[tuple]:
    labels: dict[str, str] = {}
    return [
        tuple(
            (name, ("bnode", labels.setdefault(t[1], f"b{len(labels)}")))
            if isinstance(t, tuple)
            else (name, t)
            for name, t in row
        )
        for row in rows_
    ]


def _w3c_query(directory: str, name: str) -> str:
    return (W3C / directory / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("number", ["01", "02", "03", "04"])
def test_w3c_json_res(client, number: str) -> None:
    query = _w3c_query("json-res", f"jsonres{number}.rq")
    expected_data = (W3C / "json-res" / f"jsonres{number}.srj").read_bytes()
    data = ask(client, query, formats.SPARQL_JSON, **{"default-graph-uri": JSON_RES_GRAPH}).data
    expected = rdflib.query.Result.parse(io.BytesIO(expected_data), format="json")
    got = rdflib.query.Result.parse(io.BytesIO(data), format="json")
    assert got.type == expected.type
    if expected.type == "ASK":
        assert got.askAnswer == expected.askAnswer
    else:
        assert _normalise_bnodes(rows(data, formats.SPARQL_JSON)) == _normalise_bnodes(
            rows(expected_data, formats.SPARQL_JSON)
        )


CSV_TSV_CASES = [
    ("csvtsv01.rq", "data.ttl", "csvtsv01"),
    ("csvtsv02.rq", "data.ttl", "csvtsv02"),
    ("csvtsv01.rq", "data2.ttl", "csvtsv03"),
]


@pytest.mark.parametrize(("query_file", "data", "expected"), CSV_TSV_CASES)
def test_w3c_tsv_res(client, query_file: str, data: str, expected: str) -> None:
    query = _w3c_query("csv-tsv-res", query_file)
    got = ask(client, query, formats.TSV, **{"default-graph-uri": CSV_TSV_GRAPHS[data]}).data
    want = (W3C / "csv-tsv-res" / f"{expected}.tsv").read_bytes()
    assert _normalise_bnodes(_tsv_terms(got)) == _normalise_bnodes(_tsv_terms(want))


def _tsv_terms(data: bytes) -> list[tuple]:
    # Compared as RDF terms (value and datatype), not text: "1.0e6" and "1.0E6" are one double.
    return [
        tuple(
            (name, (t.value, t.datatype, t.language))
            if isinstance(t, rdflib.Literal) and t.value is not None
            else (name, t)
            for name, t in row
        )
        for row in rows(data, formats.TSV)
    ]


@pytest.mark.parametrize(("query_file", "data", "expected"), CSV_TSV_CASES)
def test_w3c_csv_res(client, query_file: str, data: str, expected: str) -> None:
    query = _w3c_query("csv-tsv-res", query_file)
    got = ask(client, query, formats.CSV, **{"default-graph-uri": CSV_TSV_GRAPHS[data]}).data
    want = (W3C / "csv-tsv-res" / f"{expected}.csv").read_bytes()

    def table(raw: bytes) -> list[list[str]]:
        """Rows with columns in sorted variable order (SELECT * order is not fixed)."""
        parsed = [line for line in csv.reader(io.StringIO(raw.decode("utf-8"), newline="")) if line]
        header, body = parsed[0], parsed[1:]
        order = sorted(range(len(header)), key=lambda i: header[i])
        labels: dict[str, str] = {}
        return [[header[i] for i in order]] + [
            [
                labels.setdefault(line[i], f"_:b{len(labels)}")
                if line[i].startswith("_:")
                else line[i]
                for i in order
            ]
            for line in body
        ]

    got_table, want_table = table(got), table(want)
    # Numbers are compared by value: CSV carries no datatype, "1.0E6" and "1.0e6" are the same.
    assert len(got_table) == len(want_table)
    for got_row, want_row in zip(got_table, want_table, strict=True):
        for got_cell, want_cell in zip(got_row, want_row, strict=True):
            assert got_cell == want_cell or _same_number(got_cell, want_cell), (got_row, want_row)


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def test_accept_q_values_and_format_override(client) -> None:
    query = "SELECT (1 AS ?one) {}"
    response = client.get(
        "/sparql",
        query_string={"query": query},
        headers={"Accept": "text/csv;q=0.5, application/sparql-results+xml"},
    )
    assert response.headers["Content-Type"].startswith(formats.SPARQL_XML.media_type)
    for key in ("format", "output"):
        response = client.get(
            "/sparql", query_string={"query": query, key: "tsv"}, headers={"Accept": "text/csv"}
        )
        assert response.headers["Content-Type"].startswith(formats.TSV.media_type)
    assert response.headers["Vary"].startswith("Accept")
    response = client.get("/sparql", query_string={"query": query})  # no Accept: JSON
    assert json.loads(response.data)["results"]["bindings"][0]["one"]["value"] == "1"
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in json.loads(response.data)["message"]
    response = client.get(
        "/sparql", query_string={"query": "CONSTRUCT { <urn:s> <urn:p> 1 } {}", "format": "json"}
    )
    assert response.headers["Content-Type"].startswith(formats.JSON_LD.media_type)
    # The compacted JSON-LD of the format table (as /doc/ and the dumps write it).
    assert json.loads(response.data)["@graph"][0]["@id"] == "urn:s"


@pytest.mark.parametrize("fmt", [*formats.RESULT_FORMATS], ids=lambda f: f.name)
def test_select_truncation_is_announced(small_client, fmt: formats.Format) -> None:
    response = ask(small_client, SELECT_ALL, fmt)
    assert response.headers["X-SPARQL-Truncated"].startswith("true")
    assert "sparql_max_rows" in response.headers["X-SPARQL-Truncated"]
    assert "sparql_max_rows" in response.headers["Warning"]
    if fmt is formats.CSV:
        assert len(list(csv.reader(io.StringIO(response.data.decode(), newline="")))) == 1 + 3
    else:
        assert len(rows(response.data, fmt)) == 3  # still parses, with exactly the limit
    if fmt is formats.SPARQL_JSON:
        assert "sparql_max_rows" in json.loads(response.data)["warning"]
    if fmt is formats.SPARQL_XML:
        assert b"<!-- results truncated" in response.data


@pytest.mark.parametrize("fmt", formats.RDF_FORMATS, ids=lambda f: f.name)
def test_construct_truncation_is_announced(small_client, fmt: formats.Format) -> None:
    response = ask(small_client, CONSTRUCT_ALL, fmt)
    assert "sparql_max_rows" in response.headers["X-SPARQL-Truncated"]
    parsed = rdflib.Dataset()
    parsed.parse(data=response.data, format=RDFLIB_FORMATS[fmt.name])
    assert len(list(parsed.quads((None, None, None, None)))) == 3
    if fmt in (formats.TURTLE, formats.N_TRIPLES, formats.N_QUADS, formats.TRIG):
        assert response.data.startswith(b"# results truncated")


def test_no_truncation_header_under_the_limit(small_client) -> None:
    response = ask(small_client, "SELECT (1 AS ?one) {}", formats.SPARQL_JSON)
    assert "X-SPARQL-Truncated" not in response.headers
    assert response.headers["X-SPARQL-Rows"] == "1"
