"""The pages that describe the dataset as a whole: the home page, /dataset (VoID/DCAT), /shapes.

Each is checked against the published data itself: counts against SPARQL over the built store,
checksums and sizes against the bytes a client downloads, shapes against shapes/*.ttl.
Runs on the sample dataset (tests/fixtures/linked-data).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from support import FIXTURES

from publisher import formats
from publisher.dist import BuildInfo

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


def base_of(client) -> str:
    return client.application.extensions["publisher"].current.base


@pytest.fixture(scope="module")
def store(sample_dist: Path) -> ox.Store:
    return ox.Store.read_only(str(sample_dist / "store"))


def counts(store: ox.Store, query: str) -> dict[str, int]:
    """?x -> ?n of a SELECT over the store (its default graph is the union of the graphs)."""
    return {row["x"].value: int(row["n"].value) for row in store.query(query)}


def count(store: ox.Store, query: str) -> int:
    return int(next(iter(store.query(query)))["n"].value)


CLASS_COUNTS = "SELECT ?x (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?x } GROUP BY ?x"
GRAPH_COUNTS = "SELECT ?x (COUNT(*) AS ?n) WHERE { GRAPH ?x { ?s ?p ?o } } GROUP BY ?x"


# -- the home page ------------------------------------------------------------------------------
class HomePage(HTMLParser):
    """The home page's sections (h2), the rows of its tables, and its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[str] = []
        self.rows: dict[str, list[list[tuple[str, str | None]]]] = {}  # section -> rows
        self.links: list[str] = []
        self._text: list[str] | None = None
        self._cell: list[str] | None = None
        self._cell_iri: str | None = None
        self._row: list[tuple[str, str | None]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "h2":
            self._text = []
        elif tag == "tr" and self.sections:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell, self._cell_iri = [], None
        elif tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
            if self._cell is not None and self._cell_iri is None:
                self._cell_iri = values.get("title") or values["href"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2" and self._text is not None:
            self.sections.append("".join(self._text).strip())
            self._text = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(("".join(self._cell).strip(), self._cell_iri))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.setdefault(self.sections[-1], []).append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        for collecting in (self._text, self._cell):
            if collecting is not None:
                collecting.append(data)


@pytest.fixture(scope="module")
def home(sample_app) -> tuple[str, HomePage]:
    text = sample_app.test_client().get("/", headers={"Accept": "text/html"}).get_data(True)
    page = HomePage()
    page.feed(text)
    return text, page


def body_rows(page: HomePage, section: str) -> list[list[tuple[str, str | None]]]:
    return [row for row in page.rows[section] if row and row[0][0] not in {"Graph", "Class"}]


def test_home_page_has_its_sections_in_order(home) -> None:
    _text, page = home
    assert page.sections == [
        "Use the data",
        "At a glance",
        "Cite this dataset",
        "Example resources",
        "Sources and graphs",
        "Things by class",
    ]


def test_home_page_counts_classes_as_sparql_does(home, store: ox.Store) -> None:
    _text, page = home
    shown = {
        iri: int(row[1][0]) for row in body_rows(page, "Things by class") for iri in [row[0][1]]
    }
    assert shown, "no class listed"
    by_sparql = counts(store, CLASS_COUNTS)
    assert {iri: by_sparql.get(iri) for iri in shown} == shown


def test_home_page_counts_each_graphs_statements_as_sparql_does(home, store: ox.Store) -> None:
    _text, page = home
    shown = {row[0][1]: int(row[2][0]) for row in body_rows(page, "Sources and graphs")}
    assert shown == counts(store, GRAPH_COUNTS)  # every graph, each with its own count
    assert "Statements of the press release of 26 February 2023" in _text  # a source by name


def test_home_page_totals_are_the_stores(home, store: ox.Store) -> None:
    text, _page = home
    triples = count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    quads = count(store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    graphs = count(store, "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert f"{triples} distinct triples ({quads} quads) in {graphs} named graphs" in text


def test_every_local_link_of_the_home_page_resolves(home, sample_client) -> None:
    _text, page = home
    local = sorted({link for link in page.links if link.startswith("/")})
    assert {"/sparql", "/dumps/", "/dataset", "/def/", "/shapes"} <= set(local)
    for link in local:
        response = sample_client.get(link, headers={"Accept": "text/html"}, follow_redirects=True)
        assert response.status_code == 200, link


# -- /dataset: the VoID/DCAT description --------------------------------------------------------
@pytest.fixture(scope="module")
def described(sample_app, sample_dist: Path) -> rdflib.Graph:
    served = sample_app.test_client().get("/dataset.ttl")
    assert served.status_code == 200
    graph = rdflib.Graph().parse(data=served.data, format="turtle")
    on_disk = rdflib.Graph().parse(sample_dist / "void.ttl", format="turtle")
    assert isomorphic(graph, on_disk), "/dataset.ttl is not dist/void.ttl"
    return graph


def test_dataset_statistics_equal_sparql_over_the_store(
    described: rdflib.Graph, sample_app, store: ox.Store
) -> None:
    dataset = rdflib.URIRef(base_of(sample_app.test_client()) + "dataset")
    assert (dataset, rdflib.RDF.type, VOID.Dataset) in described

    def stated(predicate) -> int:
        return int(described.value(dataset, predicate))

    distinct = "SELECT (COUNT(DISTINCT ?{0}) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert stated(VOID.triples) == count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert stated(VOID.distinctSubjects) == count(store, distinct.format("s"))
    assert stated(VOID.properties) == count(store, distinct.format("p"))
    assert stated(VOID.distinctObjects) == count(store, distinct.format("o"))

    classes = {
        str(described.value(p, VOID["class"])): int(described.value(p, VOID.entities))
        for p in described.objects(dataset, VOID.classPartition)
    }
    assert classes == counts(store, CLASS_COUNTS)
    assert stated(VOID.classes) == len(classes)
    properties = {
        str(described.value(p, VOID.property)): int(described.value(p, VOID.triples))
        for p in described.objects(dataset, VOID.propertyPartition)
    }
    assert properties == counts(store, "SELECT ?x (COUNT(*) AS ?n) WHERE { ?s ?x ?o } GROUP BY ?x")
    subsets = {
        str(g): int(described.value(g, VOID.triples))
        for g in described.objects(dataset, VOID.subset)
    }
    assert subsets == counts(store, GRAPH_COUNTS)


def test_every_distribution_downloads_with_the_stated_size_and_checksum(
    described: rdflib.Graph, sample_client
) -> None:
    base = base_of(sample_client)
    distributions = sorted(described.subjects(rdflib.RDF.type, DCAT.Distribution))
    names = {str(d).removeprefix(base + "dumps/") for d in distributions}
    for fmt in formats.DUMP_FORMATS:  # each dump, compressed and plain
        assert {formats.dump_name(fmt), formats.dump_name(fmt, compressed=False)} <= names
    for distribution in distributions:
        url = str(described.value(distribution, DCAT.downloadURL))
        assert url.startswith(base), url
        # No Accept-Encoding: a plain dump name (dataset.ttl) comes decoded.
        response = sample_client.get("/" + url.removeprefix(base))
        assert response.status_code == 200, url
        checksum = described.value(described.value(distribution, SPDX.checksum), SPDX.checksumValue)
        assert len(response.data) == int(described.value(distribution, DCAT.byteSize)), url
        assert hashlib.sha256(response.data).hexdigest() == str(checksum), url


# -- /shapes ------------------------------------------------------------------------------------
def test_shapes_parse_hold_every_node_shape_and_describe_themselves(
    sample_client, sample_dist: Path
) -> None:
    base = base_of(sample_client)
    response = sample_client.get("/shapes.ttl")
    assert response.status_code == 200
    served = rdflib.Graph().parse(data=response.data, format="turtle")  # parses
    authored = rdflib.Graph()
    for path in sorted((FIXTURES / "linked-data" / "shapes").glob("*.ttl")):
        authored.parse(path, format="turtle", publicID=base)
    node_shapes = set(authored.subjects(rdflib.RDF.type, SH.NodeShape))
    assert node_shapes and set(served.subjects(rdflib.RDF.type, SH.NodeShape)) == node_shapes
    for shape in node_shapes:
        assert set(served.objects(shape, SH.targetClass)) == set(
            authored.objects(shape, SH.targetClass)
        )

    document = rdflib.URIRef(base + "shapes")
    assert (document, rdflib.RDF.type, rdflib.FOAF.Document) in served
    assert served.value(document, rdflib.DCTERMS.conformsTo) == rdflib.URIRef(str(SH))
    assert served.value(document, rdflib.DCTERMS.isPartOf) == rdflib.URIRef(base + "dataset")
    assert served.value(document, rdflib.DCTERMS.title) is not None
    built_at = datetime.fromisoformat(BuildInfo.read(sample_dist).built_at)
    assert served.value(document, rdflib.DCTERMS.modified).toPython() == built_at
