"""The format table (publisher/formats.py): every entry, through every place formats are used.

Each test is parametrized over the table itself, so a new entry is walked through negotiation,
/doc/ (by extension and by Accept, read back with a real parser), /sparql, the dumps, the
``Link: rel=alternate`` headers, the HTML format links and the service description without
touching this file.
"""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pyoxigraph as ox
import pytest
from html_checks import check_html

from publisher import formats
from publisher.formats import Family, Format
from publisher.negotiation import choose

THING = "/doc/event/khojaly-massacre"
SD_RESULT_FORMAT = "http://www.w3.org/ns/sparql-service-description#resultFormat"
NOTE = "results truncated to the first 2 rows by the endpoint's limit sparql_max_rows"

RDF = formats.RDF_FORMATS
RESULTS = formats.RESULT_FORMATS
RESOURCE = formats.RESOURCE_FORMATS


def ids(fmt: Format) -> str:
    return fmt.name


def read_rdf(body: bytes, fmt: Format) -> list[ox.Quad]:
    """Parse with pyoxigraph's parser for the format (a real parser, not the writer)."""
    assert isinstance(fmt.oxigraph, ox.RdfFormat)
    return list(ox.parse(body, format=fmt.oxigraph))


def read_results(body: bytes, fmt: Format) -> int:
    """Rows of a results document, read with a real parser (pyoxigraph's; CSV, which
    pyoxigraph does not read back as it is lossy, with Python's csv module)."""
    if fmt is formats.CSV:
        return len(list(csv.reader(io.StringIO(body.decode("utf-8"))))) - 1
    return len(list(ox.parse_query_results(body, fmt.oxigraph)))


def read_html(body: bytes) -> None:
    checker = check_html(body.decode("utf-8"))
    assert not checker.problems, checker.problems


# -- the table itself ---------------------------------------------------------------------------
def test_names_extensions_and_media_types_are_unambiguous() -> None:
    table = formats.ALL_FORMATS
    assert len({f.name for f in table}) == len(table)
    assert len({f.extension for f in table}) == len(table)
    assert len({f.media_type for f in table}) == len(table)


@pytest.mark.parametrize("fmt", [*RDF, *RESULTS], ids=ids)
def test_entries_take_what_pyoxigraph_knows(fmt: Format) -> None:
    value = fmt.oxigraph
    assert value is not None
    assert fmt.media_type == value.media_type.split(";")[0]
    assert fmt.extension == value.file_extension
    assert fmt.iri is not None and fmt.iri.startswith("http://www.w3.org/ns/formats/")
    if isinstance(value, ox.RdfFormat):
        assert fmt.family is Family.RDF
        assert fmt.supports_datasets == value.supports_datasets
    else:
        assert fmt.family is Family.RESULTS


QUADS = [
    ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o"), ox.DefaultGraph()),
    ox.Quad(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o"), ox.NamedNode("urn:g")),
]


@pytest.mark.parametrize("fmt", RDF, ids=ids)
def test_rdf_write_keeps_the_union_and_named_graphs_where_the_format_can(fmt: Format) -> None:
    read = read_rdf(fmt.write(QUADS, base="http://example.org/"), fmt)
    triples = {ox.Triple(q.subject, q.predicate, q.object) for q in read}
    assert triples == {ox.Triple(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o"))}
    graphs = {q.graph_name for q in read}
    expected = {ox.DefaultGraph(), ox.NamedNode("urn:g")} if fmt.supports_datasets else None
    assert graphs == (expected or {ox.DefaultGraph()})


@pytest.mark.parametrize("fmt", [*RDF, *RESULTS], ids=ids)
def test_comment_keeps_the_body_readable(fmt: Format) -> None:
    if fmt.family is Family.RDF:
        body = fmt.comment(fmt.write(QUADS), NOTE)
        assert len(read_rdf(body, fmt)) >= 1
    else:
        table = ox.Store().query("SELECT ?x WHERE { VALUES ?x { 1 2 } }")
        body = fmt.comment(fmt.write(table), NOTE)
        assert read_results(body, fmt) == 2
    # A format that has room for a note says it; the others are left as written.
    if fmt.comment(b"", NOTE) != b"":
        assert NOTE.encode() in body


def test_comment_syntax_per_format() -> None:
    assert formats.TURTLE.comment(b"<a> <b> <c> .\n", "n") == b"# n\n<a> <b> <c> .\n"
    assert formats.RDF_XML.comment(b'<?xml version="1.0"?><r/>', "a--b") == (
        b'<?xml version="1.0"?><!-- a- -b --><r/>'
    )
    assert formats.SPARQL_JSON.comment(b'{"head":{}}', "n") == b'{"warning":"n","head":{}}'
    for fmt in (formats.CSV, formats.TSV, formats.JSON_LD):
        assert fmt.comment(b"body", "n") == b"body"


# -- negotiation -------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", RESOURCE, ids=ids)
def test_accept_with_its_media_type_chooses_a_resource_format(fmt: Format) -> None:
    assert choose(fmt.media_type, RESOURCE) is fmt


@pytest.mark.parametrize("fmt", RESULTS, ids=ids)
def test_accept_with_its_media_type_chooses_a_results_format(fmt: Format) -> None:
    assert choose(fmt.media_type, (*RESULTS, formats.HTML)) is fmt


# -- /doc/: by extension and by Accept ---------------------------------------------------------
@pytest.mark.parametrize("fmt", RESOURCE, ids=ids)
def test_doc_by_extension_and_by_accept(client, fmt: Format) -> None:
    by_extension = client.get(f"{THING}.{fmt.extension}")
    assert by_extension.status_code == 200
    assert by_extension.headers["Content-Type"] == fmt.content_type
    by_accept = client.get(THING, headers={"Accept": fmt.media_type})
    assert by_accept.status_code == 200
    assert by_accept.headers["Content-Location"] == f"{THING}.{fmt.extension}"
    assert by_accept.headers["Vary"].startswith("Accept")
    for response in (by_extension, by_accept):
        if fmt is formats.HTML:
            read_html(response.data)
        else:
            assert len(read_rdf(response.data, fmt)) > 10


# -- Link headers and the HTML format links ----------------------------------------------------
@pytest.mark.parametrize("fmt", RESOURCE, ids=ids)
def test_link_alternates_name_every_other_variant(client, fmt: Format) -> None:
    link = client.get(f"{THING}.{fmt.extension}").headers["Link"]
    for other in RESOURCE:
        entry = f'<{THING}.{other.extension}>; rel="alternate"; type="{other.media_type}"'
        assert (entry in link) is (other is not fmt)


@pytest.mark.parametrize("fmt", RDF, ids=ids)
def test_resource_page_links_to_the_format(client, fmt: Format) -> None:
    page = client.get(f"{THING}.html").data.decode("utf-8")
    assert f'<a href="{THING}.{fmt.extension}" type="{fmt.media_type}" rel="alternate">' in page
    assert f'<link rel="alternate" type="{fmt.media_type}" href="{THING}.{fmt.extension}"' in page


# -- /sparql ------------------------------------------------------------------------------------
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 5"
SELECT = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 5"


@pytest.mark.parametrize("fmt", RDF, ids=ids)
def test_sparql_construct_in_every_rdf_format(client, fmt: Format) -> None:
    response = client.get(
        "/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": fmt.media_type}
    )
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"] == fmt.content_type
    assert len(read_rdf(response.data, fmt)) == 5


@pytest.mark.parametrize("fmt", RESULTS, ids=ids)
def test_sparql_select_in_every_results_format(client, fmt: Format) -> None:
    response = client.get(
        "/sparql", query_string={"query": SELECT}, headers={"Accept": fmt.media_type}
    )
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"].split(";")[0] == fmt.media_type
    assert read_results(response.data, fmt) == 5


def test_service_description_lists_every_format_by_its_iri(client) -> None:
    response = client.get("/sparql", headers={"Accept": formats.N_TRIPLES.media_type})
    listed = {
        t.object.value
        for t in ox.parse(response.data, format=ox.RdfFormat.N_TRIPLES)
        if t.predicate.value == SD_RESULT_FORMAT
    }
    assert listed == {f.iri for f in (*RESULTS, *RDF)}


# -- dumps --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", formats.DUMP_FORMATS, ids=ids)
def test_every_rdf_format_has_a_dump_that_is_served(client, seed_dist: Path, fmt: Format) -> None:
    name = formats.dump_name(fmt)
    assert (seed_dist / name).is_file()
    assert name in client.get("/dumps/").data.decode("utf-8")
    response = client.get(f"/dumps/{name}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/gzip"
    assert len(read_rdf(gzip.decompress(response.data), fmt)) > 100
