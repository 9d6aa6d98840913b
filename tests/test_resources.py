"""Linked-data resources through the app: 303s, variants, headers, 404/400/406, HTML pages.

Runs on the sample dataset (tests/fixtures/linked-data), which has the IRI edge cases a
crawler must survive: a non-ASCII slug, a percent-encoded one, blank nodes, several graphs.
Every body is parsed by a real parser (rdflib, json, html.parser).
"""

from __future__ import annotations

import gzip
import json

import pyoxigraph as ox
import pytest
import rdflib
from html_checks import check_html
from rdf_checks import (
    DEFAULT_GRAPH,
    check_variants,
    graph_names,
    parse,
    union,
)
from rdf_checks import (
    RDFLIB_FORMATS as RDF_PARSERS,
)
from rdflib.compare import isomorphic

from publisher import formats

THING = "/doc/event/khojaly-1992"


def base_of(client) -> str:
    return client.application.extensions["publisher"].current.base


# -- /id -> 303 -> /doc ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accept", "location"),
    [
        ("text/html", "/doc/event/khojaly-1992.html"),
        ("text/turtle", "/doc/event/khojaly-1992.ttl"),
        ("application/ld+json", "/doc/event/khojaly-1992.jsonld"),
        (None, "/doc/event/khojaly-1992.ttl"),
    ],
)
def test_id_answers_303_to_the_negotiated_document(sample_client, accept, location) -> None:
    headers = {"Accept": accept} if accept else {}
    response = sample_client.get("/id/event/khojaly-1992", headers=headers)
    assert response.status_code == 303
    assert response.headers["Location"] == location
    assert "Accept" in response.headers["Vary"]


def test_id_with_extension_keeps_it(sample_client) -> None:
    response = sample_client.get("/id/event/khojaly-1992.nq", headers={"Accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/doc/event/khojaly-1992.nq"


def test_id_of_unknown_thing_is_404_not_a_redirect(sample_client) -> None:
    response = sample_client.get("/id/event/nothing", headers={"Accept": "text/turtle"})
    assert response.status_code == 404


# -- variants -------------------------------------------------------------------------------
def variants(client, path: str) -> dict[str, bytes]:
    found = {}
    for fmt in formats.RDF_FORMATS:
        response = client.get(f"{path}.{fmt.extension}")
        assert response.status_code == 200, (path, fmt.name, response.data[:300])
        assert response.headers["Content-Type"] == fmt.content_type
        found[fmt.name] = response.data
    return found


@pytest.mark.parametrize(
    "path",
    [
        THING,
        "/doc/place/khojaly",
        "/doc/document/press-release-2023-02-26",
        "/def/Attack",
        "/def/killed",
        "/def",  # the ontology: /def/ and its variants /def.ttl ...
        "/graph/press-release-2023-02-26",
        "/graph/curated",
        "/dataset",
        "/shapes",
    ],
)
def test_every_rdf_variant_parses_and_all_agree(sample_client, path: str) -> None:
    reference = check_variants(variants(sample_client, path), base=base_of(sample_client))
    assert len(reference) > 0


DOCUMENTS = [
    THING,
    "/doc/place/khojaly",
    "/def/Attack",
    "/def",
    "/graph/press-release-2023-02-26",
    "/graph/curated",
    "/dataset",
    "/shapes",
]


def _no_remote_contexts(url: str, options: dict | None = None) -> dict:
    raise AssertionError(f"pyld tried to fetch {url}: the context must be inline")


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_default_graph_of_every_variant_is_the_turtle_variant(sample_client, path) -> None:
    """Clients that read only the default graph (rdflib Graph, jsonld.js/pyld toRDF, Jena,
    Comunica) get the same triples from every variant; the quad formats keep the graphs."""
    from pyld import jsonld

    base = base_of(sample_client)
    found = variants(sample_client, path)
    turtle = rdflib.Graph().parse(data=found["turtle"], format="turtle", publicID=base)
    assert len(turtle) > 0
    for name, body in found.items():
        default_only = rdflib.Graph().parse(data=body, format=RDF_PARSERS[name], publicID=base)
        assert isomorphic(default_only, turtle), f"default graph of {name} differs from Turtle"
    expanded = jsonld.to_rdf(
        json.loads(found["jsonld"]),
        {"format": "application/n-quads", "base": base, "documentLoader": _no_remote_contexts},
    )
    default_nquads = "\n".join(
        line for line in expanded.splitlines() if _graph_of_nquad(line) is None
    )
    from_pyld = rdflib.Graph().parse(data=default_nquads, format="nt")
    assert isomorphic(from_pyld, turtle), "pyld's default graph differs from Turtle"


def _graph_of_nquad(line: str) -> str | None:
    for quad in ox.parse(line.encode("utf-8"), format=ox.RdfFormat.N_QUADS):
        return None if isinstance(quad.graph_name, ox.DefaultGraph) else str(quad.graph_name)
    return None


def test_quad_variants_keep_every_statement_in_its_source_graph(sample_client) -> None:
    base = base_of(sample_client)
    dataset = parse(sample_client.get(THING + ".nq").data, "nquads", base=base)
    event = rdflib.URIRef(base + "id/event/khojaly-1992")
    kg = rdflib.Namespace(base + "def/")
    claim = (event, kg.characterisedAs, rdflib.Literal("genocide", lang="en"))
    graphs = {str(g) for *_t, g in dataset.quads((*claim, None))}
    assert graphs == {DEFAULT_GRAPH, base + "graph/press-release-2023-02-26"}


def test_description_has_outgoing_blank_nodes_incoming_and_labels(sample_client) -> None:
    base = base_of(sample_client)
    dataset = parse(sample_client.get(THING + ".nq").data, "nquads", base=base)
    graph = union(dataset)
    event = rdflib.URIRef(base + "id/event/khojaly-1992")
    kg = rdflib.Namespace(base + "def/")
    # outgoing, and the blank node the figure is (with its own statements)
    figure = graph.value(event, kg.killed)
    assert isinstance(figure, rdflib.BNode)
    assert graph.value(figure, kg["count"]).toPython() == 613
    # incoming: the document's page is linked from the event ... and the event from the graph
    place = rdflib.URIRef(base + "id/place/khojaly")
    assert graph.value(place, rdflib.RDFS.label, any=True) is not None  # label of a linked thing
    assert (kg.Attack, rdflib.RDFS.label, rdflib.Literal("attack", lang="en")) in graph
    # each statement keeps its graph: claims in the source's graph, identity in curated
    assert graph_names(dataset) == {
        base + "graph/press-release-2023-02-26",
        base + "graph/curated",
        base + "graph/ontology",
    }
    claim = (event, kg.characterisedAs, rdflib.Literal("genocide", lang="en"))
    source_graph = rdflib.URIRef(base + "graph/press-release-2023-02-26")
    assert (*claim, source_graph) in set(dataset.quads((*claim, None)))


def test_incoming_links_are_described(sample_client) -> None:
    base = base_of(sample_client)
    graph = union(parse(sample_client.get("/doc/place/khojaly.ttl").data, "turtle", base=base))
    event = rdflib.URIRef(base + "id/event/khojaly-1992")
    location = rdflib.URIRef("https://schema.org/location")
    assert (event, location, rdflib.URIRef(base + "id/place/khojaly")) in graph


def test_graph_page_has_its_statements_and_its_provenance(sample_client) -> None:
    base = base_of(sample_client)
    dataset = parse(
        sample_client.get("/graph/press-release-2023-02-26.trig").data, "trig", base=base
    )
    graph_iri = rdflib.URIRef(base + "graph/press-release-2023-02-26")
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    provenance = dataset.graph(rdflib.URIRef(base + "graph/provenance"))
    assert provenance.value(graph_iri, prov.wasDerivedFrom) == rdflib.URIRef(
        base + "id/document/press-release-2023-02-26"
    )
    assert len(dataset.graph(graph_iri)) == 14  # every statement of the source graph


def test_jsonld_is_compacted_with_the_published_context(sample_client) -> None:
    body = sample_client.get(THING, headers={"Accept": "application/ld+json"}).get_json()
    context = sample_client.get("/context.jsonld").get_json()
    assert body["@context"] == context["@context"]
    text = json.dumps(body)
    assert '"kg:' in text or '"schema:' in text  # compact IRIs, not only expanded ones


def test_turtle_uses_prefixes_and_starts_with_the_thing(sample_client) -> None:
    text = sample_client.get(THING + ".ttl").get_data(as_text=True)
    assert "@prefix schema: <https://schema.org/>" in text
    assert "@prefix dcat:" not in text  # only the prefixes it uses
    first_statement = next(line for line in text.splitlines() if not line.startswith("@prefix"))
    assert first_statement.startswith(f"<{base_of(sample_client)}id/event/khojaly-1992>")


# -- headers ------------------------------------------------------------------------------
def test_negotiated_response_headers(sample_client) -> None:
    response = sample_client.get(THING, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert response.headers["Content-Location"] == THING + ".ttl"
    assert set(response.headers["Vary"].replace(" ", "").split(",")) >= {
        "Accept",
        "Accept-Encoding",
    }
    links = response.headers["Link"]
    for fmt in formats.RESOURCE_FORMATS:
        if fmt is not formats.TURTLE:
            assert f'<{THING}.{fmt.extension}>; rel="alternate"; type="{fmt.media_type}"' in links
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_etags_differ_per_variant_and_language(sample_client) -> None:
    def etag(path: str, **headers: str) -> str:
        return sample_client.get(path, headers=headers).headers["ETag"]

    tags = {
        etag(THING + ".ttl"),
        etag(THING + ".nt"),
        etag(THING + ".html", **{"Accept-Language": "en"}),
        etag(THING + ".html", **{"Accept-Language": "az"}),
    }
    assert len(tags) == 4


def test_conditional_requests_answer_304(sample_client) -> None:
    first = sample_client.get(THING, headers={"Accept": "text/turtle"})
    again = sample_client.get(
        THING, headers={"Accept": "text/turtle", "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.data == b""
    since = sample_client.get(
        THING,
        headers={"Accept": "text/turtle", "If-Modified-Since": first.headers["Last-Modified"]},
    )
    assert since.status_code == 304


def test_explicit_extension_beats_accept(sample_client) -> None:
    response = sample_client.get(THING + ".rdf", headers={"Accept": "text/html"})
    assert response.mimetype == "application/rdf+xml"
    vary = {v.strip() for v in response.headers.get("Vary", "").split(",")}
    assert "Accept" not in vary


def test_format_parameter(sample_client) -> None:
    assert sample_client.get(THING + "?format=nt").mimetype == "application/n-triples"
    assert sample_client.get(THING + "?format=nonsense").status_code == 400


def test_head_has_the_headers_of_get_without_a_body(sample_client) -> None:
    get = sample_client.get(THING, headers={"Accept": "text/html"})
    head = sample_client.head(THING, headers={"Accept": "text/html"})
    assert head.status_code == 200
    assert head.data == b""
    for name in ("Content-Type", "ETag", "Content-Location", "Link", "Vary", "Content-Length"):
        assert head.headers[name] == get.headers[name]


def test_gzip_when_accepted(sample_client) -> None:
    plain = sample_client.get(THING + ".html")
    zipped = sample_client.get(THING + ".html", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == plain.data
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert zipped.headers["ETag"].startswith('W/"')
    refused = sample_client.get(THING + ".html", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers
    # a weak validator of the compressed form still revalidates
    again = sample_client.get(
        THING + ".html",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]},
    )
    assert again.status_code == 304


def test_dumps_are_not_compressed_twice(sample_client) -> None:
    response = sample_client.get("/dumps/dataset.nq.gz", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.mimetype == "application/gzip"


# -- IRIs with percent-encoding and non-ASCII characters ------------------------------------
@pytest.mark.parametrize(
    ("path", "iri_tail"),
    [
        ("/doc/place/xocal%C4%B1", "id/place/xocalı"),
        ("/doc/place/xocal%c4%b1", "id/place/xocalı"),
        ("/doc/place/ganja%20city", "id/place/ganja%20city"),
    ],
)
def test_iris_round_trip(sample_client, path: str, iri_tail: str) -> None:
    base = base_of(sample_client)
    response = sample_client.get(path, headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    graph = union(parse(response.data, "ntriples", base=base))
    assert (rdflib.URIRef(base + iri_tail), None, None) in graph
    redirect = sample_client.get(path.replace("/doc/", "/id/"), headers={"Accept": "text/html"})
    assert redirect.status_code == 303
    assert redirect.headers["Location"].isascii()
    html = sample_client.get(redirect.headers["Location"])
    assert html.status_code == 200


# -- 404, 400, 406 -------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", formats.RDF_FORMATS, ids=lambda f: f.name)
def test_404_is_an_empty_graph_in_the_negotiated_format(sample_client, fmt) -> None:
    response = sample_client.get("/doc/event/nothing", headers={"Accept": fmt.media_type})
    assert response.status_code == 404
    assert response.mimetype == fmt.media_type
    dataset = parse(response.data, fmt.name, base=base_of(sample_client))
    assert len(dataset) == 0
    assert "Accept" in response.headers["Vary"]


def test_404_for_browsers_is_a_page(sample_client) -> None:
    response = sample_client.get("/def/Nothing", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    check_html(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "path",
    [
        "/doc/event/",
        "/doc/a/./b",
        "/doc/a/../b",
        "/doc/a/%FF%FE",
        "/doc/a/%00b",
        "/def/a/",
        "/graph/%C3",
    ],
)
def test_malformed_paths_are_400(sample_client, path: str) -> None:
    response = sample_client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 400, response.data
    assert b"malformed" in response.data


def test_unsatisfiable_accept_is_406_listing_variants(sample_client) -> None:
    response = sample_client.get(THING, headers={"Accept": "image/png"})
    assert response.status_code == 406
    body = response.get_data(as_text=True)
    for fmt in formats.RESOURCE_FORMATS:
        assert fmt.media_type in body
    assert 'rel="alternate"' in response.headers["Link"]


@pytest.mark.parametrize(
    "path",
    [
        "/doc/%E2%80%AE/x",
        "/doc/" + "a/" * 600 + "b",
        "/doc/a%2Fb",
        "/doc/a/b.unknown",
        "/def.xyz",
        "/dataset.exe",
        "/graph/a;b=c",
        "/doc/a/b?format=",
        "/id/%",
        "/doc/%zz",
    ],
)
def test_odd_paths_never_500(sample_client, path: str) -> None:
    for accept in ("text/html", "text/turtle", "*/*"):
        assert sample_client.get(path, headers={"Accept": accept}).status_code < 500


# -- HTML pages ----------------------------------------------------------------------------
def test_resource_page_shows_labels_types_statements_and_sources(sample_client) -> None:
    response = sample_client.get(THING, headers={"Accept": "text/html"})
    text = response.get_data(as_text=True)
    checker = check_html(text)
    assert "<h1>Khojaly events</h1>" in text or 'lang="en">Khojaly events</h1>' in text
    assert ">attack</a>" in text  # its type, by its label from the ontology
    assert ">killed (figure)</a>" in text  # predicate label from the ontology
    assert "according to" in text and "Embassy of the Republic of Azerbaijan" in text
    assert "2023-02-26" in text
    assert 'class="claim"' in text  # a source's statements are marked as its claims
    assert "Statements of the press release of 26 February 2023" in text  # the graph's label
    # alternate formats and the embedded JSON-LD, which parses to the same description
    for fmt in formats.RDF_FORMATS:
        assert f'href="{THING}.{fmt.extension}"' in text
    # The first block is the description; the second is schema.org (tests/test_web_schema_org.py).
    embedded, _schema_org = checker.scripts["application/ld+json"]
    dataset = rdflib.Dataset()
    dataset.parse(data=embedded, format="json-ld")
    turtle = parse(sample_client.get(THING + ".ttl").data, "turtle", base="http://x/")
    assert len(union(dataset)) == len(union(turtle))


def test_incoming_links_and_languages(sample_client) -> None:
    english = sample_client.get("/doc/place/khojaly.html").get_data(as_text=True)
    check_html(english)
    assert "Linked from" in english and "Khojaly events" in english
    azeri = sample_client.get(
        "/doc/place/khojaly.html", headers={"Accept-Language": "az, en;q=0.5"}
    ).get_data(as_text=True)
    assert '<h1 lang="az">Xocalı</h1>' in azeri
    russian = sample_client.get(
        "/doc/place/khojaly.html", headers={"Accept-Language": "ru-RU"}
    ).get_data(as_text=True)
    assert '<h1 lang="ru">Ходжалы</h1>' in russian
    unknown = sample_client.get(
        "/doc/place/khojaly.html", headers={"Accept-Language": "ja"}
    ).get_data(as_text=True)
    assert '<h1 lang="en">Khojaly</h1>' in unknown  # English when the reader's is missing


def test_ontology_page_documents_every_term(sample_client) -> None:
    text = sample_client.get("/def/", headers={"Accept": "text/html"}).get_data(as_text=True)
    check_html(text)
    for term, label in [
        ("Attack", "attack"),
        ("Casualties", "casualty figure"),
        ("killed", "killed (figure)"),
        ("minimum", "at least"),
        ("count", "count"),
        ("characterisedAs", "characterised as"),
    ]:
        assert f'href="/def/{term}"' in text
        assert label in text
    assert "subclass of" in text and "close match" in text  # alignments


@pytest.mark.parametrize(
    "path", ["/", "/dataset", "/graph/curated", "/shapes", "/def/Attack", "/dumps/"]
)
def test_pages_are_valid_html(sample_client, path: str) -> None:
    response = sample_client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    check_html(response.get_data(as_text=True))


# -- dataset, shapes, discovery (home page, /dataset, /shapes: test_discovery_pages.py) -----
def test_well_known_void_redirects_to_the_dataset(sample_client) -> None:
    response = sample_client.get("/.well-known/void")
    assert response.status_code == 303
    assert response.headers["Location"] == "/dataset"


def test_sitemap_and_robots(sample_client) -> None:
    from xml.etree import ElementTree

    base = base_of(sample_client)
    robots = sample_client.get("/robots.txt").get_data(as_text=True)
    assert f"Sitemap: {base}sitemap.xml" in robots
    tree = ElementTree.fromstring(sample_client.get("/sitemap.xml").data)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = {loc.text for loc in tree.findall("s:url/s:loc", ns)}
    for expected in (
        "doc/event/khojaly-1992",
        "doc/place/ganja%20city",
        "doc/place/xocal%C4%B1",
        "def/Attack",
        "graph/curated",
        "dataset",
    ):
        assert base + expected in locations
    assert not any(loc.startswith(base + "doc/def") for loc in locations)
    assert all(loc.isascii() for loc in locations)


@pytest.mark.parametrize("path", DOCUMENTS)
def test_accept_application_json_gets_jsonld(sample_client, path: str) -> None:
    response = sample_client.get(
        "/def/" if path == "/def" else path, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200, response.data[:300]
    assert response.headers["Content-Type"] == formats.JSON_LD.content_type
    document = json.loads(response.data)
    assert "@context" in document
    graph = rdflib.Graph().parse(
        data=response.data, format="json-ld", publicID=base_of(sample_client)
    )
    assert len(graph) > 0


def test_accept_application_json_on_sparql_keeps_results_json_and_gives_jsonld_graphs(
    sample_client,
) -> None:
    headers = {"Accept": "application/json"}
    select = sample_client.get(
        "/sparql", query_string={"query": "SELECT * { ?s ?p ?o } LIMIT 1"}, headers=headers
    )
    assert select.status_code == 200
    assert select.headers["Content-Type"].startswith("application/sparql-results+json")
    construct = sample_client.get(
        "/sparql",
        query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 3"},
        headers=headers,
    )
    assert construct.status_code == 200
    assert construct.headers["Content-Type"].startswith("application/ld+json")
    assert len(rdflib.Graph().parse(data=construct.data, format="json-ld")) == 3


# -- issue 7 #10: / for RDF clients, a stable service description, documents about themselves
@pytest.mark.parametrize("fmt", formats.RDF_FORMATS, ids=lambda f: f.name)
def test_home_asked_for_rdf_answers_the_dataset_description(sample_client, fmt) -> None:
    response = sample_client.get("/", headers={"Accept": fmt.media_type})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == fmt.content_type
    assert "Accept" in response.headers["Vary"]
    base = base_of(sample_client)
    graph = rdflib.Graph().parse(data=response.data, format=RDF_PARSERS[fmt.name], publicID=base)
    dataset = rdflib.URIRef(base + "dataset")
    assert (dataset, rdflib.RDF.type, rdflib.URIRef("http://rdfs.org/ns/void#Dataset")) in graph
    assert sample_client.get("/", headers={"Accept": "text/html"}).mimetype == "text/html"
    assert sample_client.get("/").mimetype == "text/html"  # curl and people: the home page


@pytest.mark.parametrize("fmt", [formats.TURTLE, formats.N_TRIPLES, formats.JSON_LD])
def test_service_description_is_stable_and_cacheable(sample_client, fmt) -> None:
    headers = {"Accept": fmt.media_type}
    first = sample_client.get("/sparql", headers=headers)
    second = sample_client.get("/sparql", headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert b"_:" not in first.data  # no fresh blank nodes
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"]
    revalidated = sample_client.get("/sparql", headers={**headers, "If-None-Match": etag})
    assert revalidated.status_code == 304
    graph = rdflib.Graph().parse(data=first.data, format=RDF_PARSERS[fmt.name])
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert len(list(graph.subjects(rdflib.RDF.type, sd.NamedGraph))) >= 3


def test_shapes_document_describes_itself(sample_client) -> None:
    base = base_of(sample_client)
    graph = rdflib.Graph().parse(data=sample_client.get("/shapes.ttl").data, format="turtle")
    shapes = rdflib.URIRef(base + "shapes")
    assert (shapes, rdflib.RDF.type, rdflib.FOAF.Document) in graph
    assert graph.value(shapes, rdflib.DCTERMS.title) is not None
    assert graph.value(shapes, rdflib.DCTERMS.isPartOf) == rdflib.URIRef(base + "dataset")


def test_a_cached_body_links_the_same_whatever_spelling_filled_the_cache(sample_client) -> None:
    """Bodies are cached by IRI: the page's links must not follow the first request's
    spelling of the path (%c4%b1 here) into every later answer."""
    lower = sample_client.get("/doc/place/xocal%c4%b1.html")
    upper = sample_client.get("/doc/place/xocal%C4%B1.html")
    assert lower.status_code == upper.status_code == 200
    assert lower.data == upper.data
    assert b'href="/doc/place/xocal%C4%B1.ttl"' in upper.data
    assert b"%c4%b1" not in upper.data
    # The headers answer the request as sent.
    assert lower.headers["Content-Location"] == "/doc/place/xocal%c4%b1.html"
    assert upper.headers["Content-Location"] == "/doc/place/xocal%C4%B1.html"
