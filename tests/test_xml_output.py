"""XML output is well-formed or refused: never raw NUL/BEL/ESC, never `<oxprefix:>`.

The fixture (tests/fixtures/xml-hostile) has literals with control characters and a
predicate IRI that is no XML name, beside a clean resource. Every XML body the server sends
is parsed by a real XML parser (expat).
"""

from __future__ import annotations

import gzip
import logging
import xml.parsers.expat
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from support import FIXTURES, build_data_only, in_process_app

from publisher import xmlsafe

BASE = "http://127.0.0.1:9/"


def well_formed(body: bytes) -> None:
    parser = xml.parsers.expat.ParserCreate()
    parser.Parse(body, True)  # raises ExpatError on broken XML


@pytest.fixture(scope="module")
def hostile_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_data_only(
        tmp_path_factory.mktemp("hostile") / "dist",
        base=BASE,
        data_dir=FIXTURES / "xml-hostile" / "data",
    )


@pytest.fixture(scope="module")
def hostile_client(hostile_dist: Path):
    return in_process_app(hostile_dist).test_client()


def test_the_build_leaves_out_an_rdf_xml_dump_it_cannot_write(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        dist = build_data_only(
            tmp_path / "dist",
            base=BASE,
            data_dir=FIXTURES / "xml-hostile" / "data",
        )
    assert not (dist / "dataset.rdf.gz").exists()
    assert "dataset.rdf.gz left out" in caplog.text and "XML" in caplog.text
    assert "dataset.rdf.gz" not in (dist / "void.ttl").read_text()
    # The other dumps carry the data, control characters included.
    turtle = rdflib.Graph().parse(
        data=gzip.decompress((dist / "dataset.ttl.gz").read_bytes()), format="turtle"
    )
    assert any("\x00" in str(o) for o in turtle.objects())


def test_a_clean_dataset_keeps_its_rdf_xml_dump(seed_dist: Path) -> None:
    body = gzip.decompress((seed_dist / "dataset.rdf.gz").read_bytes())
    well_formed(body)


@pytest.mark.parametrize("path", ["/doc/thing/control.rdf", "/doc/thing/script.rdf"])
def test_a_description_xml_cannot_carry_is_refused_with_406(hostile_client, path) -> None:
    response = hostile_client.get(path, headers={"Accept": "text/plain"})
    assert response.status_code == 406
    message = response.data.decode("utf-8")
    assert "RDF/XML cannot represent" in message
    assert "javascript:alert" in message or "U+0000" in message
    assert "text/turtle" in message  # the other variants are offered
    assert 'rel="alternate"' in response.headers["Link"]
    negotiated = hostile_client.get(path[:-4], headers={"Accept": "application/rdf+xml"})
    assert negotiated.status_code == 406
    # Every other variant still answers.
    assert hostile_client.get(path[:-4] + ".ttl").status_code == 200


def test_a_clean_description_is_well_formed_rdf_xml(hostile_client) -> None:
    response = hostile_client.get("/doc/thing/clean.rdf")
    assert response.status_code == 200
    well_formed(response.data)
    graph = rdflib.Graph().parse(data=response.data, format="xml")
    assert rdflib.Literal("Xocalı", lang="az") in set(graph.objects())


def _sparql(client, query: str, accept: str):
    return client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})


def test_sparql_xml_results_are_well_formed_or_refused(hostile_client) -> None:
    query = "SELECT ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }"
    refused = _sparql(hostile_client, query, "application/sparql-results+xml")
    assert 400 <= refused.status_code < 500
    assert "U+0000" in refused.data.decode()
    clean = _sparql(
        hostile_client,
        f"SELECT ?l WHERE {{ <{BASE}id/thing/clean> ?p ?l }}",
        "application/sparql-results+xml",
    )
    assert clean.status_code == 200
    well_formed(clean.data)
    assert "Ходжалы" in clean.data.decode()


def test_construct_as_rdf_xml_is_well_formed_or_refused(hostile_client) -> None:
    for subject in ("control", "script"):
        refused = _sparql(
            hostile_client, f"DESCRIBE <{BASE}id/thing/{subject}>", "application/rdf+xml"
        )
        assert 400 <= refused.status_code < 500, subject
        assert "RDF/XML cannot represent" in refused.data.decode()
    clean = _sparql(hostile_client, f"DESCRIBE <{BASE}id/thing/clean>", "application/rdf+xml")
    assert clean.status_code == 200
    well_formed(clean.data)


@pytest.mark.parametrize(
    ("predicate", "writable"),
    [
        ("javascript:alert('p')", False),
        ("http://example.org/a#1", False),
        ("http://example.org/a/", False),
        ("http://example.org/a#b", True),
        ("http://example.org/é", True),
        ("urn:x:-a", True),
    ],
)
def test_predicate_check_agrees_with_an_xml_parser(predicate: str, writable: bool) -> None:
    triples = [ox.Triple(ox.NamedNode("http://s"), ox.NamedNode(predicate), ox.Literal("v"))]
    assert (xmlsafe.rdf_xml_problem(triples) is None) is writable
    if writable:
        well_formed(ox.serialize(triples, format=ox.RdfFormat.RDF_XML))


def test_the_fast_byte_scan_agrees_with_the_xml_character_rule() -> None:
    """has_forbidden_bytes (a translate-and-find prefilter, then the regex) says what the
    XML 1.0 Char production says, for every byte alone, inside text, and after EF BF."""
    documents = [
        document
        for byte in range(256)
        for document in (
            bytes([byte]),
            "Xocalı ".encode() + bytes([byte]) + " Ходжалы".encode(),
            b"\xef\xbf" + bytes([byte]),
        )
    ]
    for document in documents:
        try:
            text = document.decode("utf-8")
        except UnicodeDecodeError:
            continue  # the dumps are UTF-8: only decodable documents are asked
        forbidden = any(
            not (
                c in "\t\n\r"
                or "\x20" <= c <= "\ud7ff"
                or "\ue000" <= c <= "\ufffd"
                or c > "\uffff"
            )
            for c in text
        )
        assert xmlsafe.has_forbidden_bytes(document) is forbidden, document
