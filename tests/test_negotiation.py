"""Content negotiation: the Accept parser and real clients' Accept headers.

The table holds Accept headers that real clients send, each with where it comes from, and the
variant it must get from a /doc/ resource. It is checked on the parser and through the app.
"""

from __future__ import annotations

import pytest

from publisher import formats
from publisher.negotiation import choose, parse_accept

CHROME = (
    # Chrome 120+ top-level navigation (also Edge, Opera, Brave; seen in DevTools and
    # countless scraper configs)
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX = (
    # Firefox 128+ navigation (network.http.accept default)
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/png,image/svg+xml,*/*;q=0.8"
)
FIREFOX_OLD = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # Firefox 92-127
SAFARI = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # Safari 16-18
RDFLIB_DEFAULT = (
    # rdflib 7 Graph.parse(url) without format: every registered parser's media type
    # (rdflib/parser.py create_input_source; printed from the installed rdflib)
    "application/rdf+xml, text/n3, text/turtle, application/n-triples, application/ld+json, "
    "application/n-quads, application/trix, application/trig"
)
RDFLIB_TURTLE = "text/turtle, application/x-turtle, */*;q=0.1"  # rdflib parse(format="turtle")
RDFLIB_JSONLD = "application/ld+json, application/json;q=0.9, */*;q=0.1"  # format="json-ld"
JENA_RIOT = (
    # Apache Jena RIOT WebContent.defaultRDFAcceptHeader (RDFDataMgr.read of an http URL):
    # defaultGraphAccept + "," + defaultDatasetAccept + ",*/*;q=0.5"
    "text/turtle,application/n-triples;q=0.9,application/ld+json;q=0.8,"
    "application/rdf+xml;q=0.7,application/trig,application/n-quads;q=0.9,"
    "text/x-nquads;q=0.8,application/x-trig;q=0.7,application/ld+json;q=0.5,*/*;q=0.5"
)
JENA_DATASET = (
    # Jena WebContent.defaultDatasetAcceptHeader (RDFDataMgr.loadDataset)
    "application/trig,application/n-quads;q=0.9,text/x-nquads;q=0.8,"
    "application/x-trig;q=0.7,application/ld+json;q=0.5,*/*;q=0.5"
)
COMUNICA = (
    # Comunica 2.x/3.x link traversal (actor-http, logged request header)
    "application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,"
    "application/n-triples;q=0.8,text/turtle;q=0.6,application/rdf+xml;q=0.5,text/n3;q=0.35,"
    "application/xml;q=0.3,image/svg+xml;q=0.3,text/xml;q=0.3,text/html;q=0.2,"
    "application/xhtml+xml;q=0.18,application/json;q=0.135,text/shaclc;q=0.1,"
    "text/shaclc-ext;q=0.05"
)
COMUNICA_LDFETCH = (
    # ldfetch / older Comunica (rdf-dereference) default
    "application/n-quads,application/trig;q=0.95,application/ld+json;q=0.9,"
    "application/n-triples;q=0.8,*/*;q=0.1"
)
# SPARQLWrapper (Wrapper.py) joins its media-type lists with ",":
SPARQLWRAPPER_RDFXML = "application/rdf+xml"  # CONSTRUCT/DESCRIBE, default XML return format
SPARQLWRAPPER_TURTLE = "application/turtle,text/turtle"  # setReturnFormat(TURTLE)
SPARQLWRAPPER_N3 = (  # setReturnFormat(N3)
    "application/turtle,text/turtle,text/rdf+n3,application/n-triples,application/n3,text/n3"
)
SPARQLWRAPPER_JSONLD = "application/ld+json,application/x-json+ld"  # setReturnFormat(JSONLD)

T, J, NT, X, NQ, TRIG, H = "turtle", "jsonld", "ntriples", "rdfxml", "nquads", "trig", "html"

REAL_CLIENTS: list[tuple[str, str | None, str | None]] = [
    ("chrome", CHROME, H),
    ("firefox", FIREFOX, H),
    ("firefox-92", FIREFOX_OLD, H),
    ("safari", SAFARI, H),
    ("curl", "*/*", T),  # curl 7/8 sends Accept: */*
    ("wget", "*/*", T),  # GNU Wget 1.21 sends Accept: */*
    ("python-requests", "*/*", T),  # requests.utils.default_headers()
    ("no-accept", None, T),  # http.client / urllib without headers
    ("rdflib-default", RDFLIB_DEFAULT, T),  # all at q=1: the table's order decides
    ("rdflib-turtle", RDFLIB_TURTLE, T),
    ("rdflib-jsonld", RDFLIB_JSONLD, J),
    ("jena-riot", JENA_RIOT, T),  # text/turtle and application/trig tie at 1: Turtle first
    ("jena-dataset", JENA_DATASET, TRIG),
    ("comunica", COMUNICA, NQ),
    ("comunica-ldfetch", COMUNICA_LDFETCH, NQ),
    ("sparqlwrapper-rdfxml", SPARQLWRAPPER_RDFXML, X),
    ("sparqlwrapper-turtle", SPARQLWRAPPER_TURTLE, T),
    ("sparqlwrapper-n3", SPARQLWRAPPER_N3, T),
    ("sparqlwrapper-jsonld", SPARQLWRAPPER_JSONLD, J),
    # q=0 means "not this"
    ("turtle-q0", "text/turtle;q=0, */*", J),
    ("html-q0-browser", "text/html;q=0,*/*;q=0.8", T),
    ("all-q0", "*/*;q=0", None),
    ("only-refused", "application/rdf+xml;q=0", None),
    ("specific-beats-wildcard-q0", "*/*;q=0, application/n-triples", NT),
    # parameters
    ("jsonld-profile", 'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"', J),
    ("turtle-charset", "text/turtle; charset=utf-8", T),
    ("turtle-latin1", "text/turtle; charset=iso-8859-1", None),  # we only speak UTF-8
    ("html-level", "text/html;level=1;q=0.9, text/turtle;q=0.5", H),
    ("quoted-comma", 'application/ld+json;profile="a,b", text/turtle;q=0.1', J),
    # aliases and oddities
    ("text-plain", "text/plain", NT),  # the old N-Triples media type
    ("x-turtle", "application/x-turtle", T),
    ("nquads-alias", "text/x-nquads", NQ),
    ("uppercase", "TEXT/TURTLE", T),
    ("bare-star", "*", T),  # old Java clients (HttpURLConnection) send "*; q=.2"
    ("java-urlconnection", "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2", H),
    ("unsupported", "image/png", None),
    ("garbage", ";;;,,", T),  # nothing parseable is the same as no Accept
    ("bad-q", "text/turtle;q=abc, application/rdf+xml;q=0.5", X),
]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [pytest.param(accept, expected, id=name) for name, accept, expected in REAL_CLIENTS],
)
def test_real_client_gets_its_variant(accept: str | None, expected: str | None) -> None:
    chosen = choose(accept, formats.RESOURCE_FORMATS)
    assert (chosen.name if chosen else None) == expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [pytest.param(accept, expected, id=name) for name, accept, expected in REAL_CLIENTS],
)
def test_real_client_through_the_app(sample_client, accept: str | None, expected: str | None):
    headers = {"Accept": accept} if accept is not None else {}
    response = sample_client.get("/doc/place/khojaly", headers=headers)
    if expected is None:
        assert response.status_code == 406
        assert "text/turtle" in response.get_data(as_text=True)  # lists what is available
        assert "Accept" in response.headers["Vary"]
        return
    assert response.status_code == 200
    fmt = formats.by_name(expected)
    assert response.mimetype == fmt.media_type
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Content-Location"] == f"/doc/place/khojaly.{fmt.extension}"


def test_parser_reads_parameters_and_quality() -> None:
    ranges = parse_accept('text/html;level=1;q=0.5;ext="x", application/*;q=0.2, */*')
    assert [(r.type, r.subtype, r.params, r.q) for r in ranges] == [
        ("text", "html", (("level", "1"),), 0.5),
        ("application", "*", (), 0.2),
        ("*", "*", (), 1.0),
    ]
    assert [r.specificity for r in ranges] == [3, 1, 0]


def test_more_specific_range_overrides_wildcard() -> None:
    # RFC 9110 12.5.1: the most specific reference has precedence.
    assert choose("text/*;q=0.1, text/html;q=0, */*;q=0.05", formats.RESOURCE_FORMATS).name == T
    assert choose("application/*;q=0.5, text/*;q=0.6", formats.RESOURCE_FORMATS).name == T


def test_ties_follow_the_format_table() -> None:
    assert choose("application/trig, application/n-quads", formats.RESOURCE_FORMATS) is (
        formats.N_QUADS
    )
    assert choose("text/html, text/turtle", formats.RESOURCE_FORMATS) is formats.TURTLE


def test_a_named_type_beats_a_wildcard_at_equal_q() -> None:
    # `text/html, */*` is a browser-like client asking for HTML first (lynx, old IE, many
    # scripts that copy a browser's header); only the wildcard is a tie with the server order.
    assert choose("text/html, */*", formats.RESOURCE_FORMATS) is formats.HTML
    assert choose("application/ld+json, */*", formats.RESOURCE_FORMATS) is formats.JSON_LD
    assert choose("*/*", formats.RESOURCE_FORMATS) is formats.TURTLE
    assert choose("text/html;q=0.5, */*", formats.RESOURCE_FORMATS) is formats.TURTLE


def test_content_and_errors_agree_on_a_named_type_beside_a_wildcard(sample_client) -> None:
    page = sample_client.get("/", headers={"Accept": "text/html, */*"})
    missing = sample_client.get("/no/such/route", headers={"Accept": "text/html, */*"})
    assert page.mimetype == "text/html"
    assert missing.status_code == 404
    assert missing.mimetype == "text/html"
