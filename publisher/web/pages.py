"""Pages for people: the home page summarising the dataset."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from publisher import formats
from publisher.dist import VOID_FILE
from publisher.namespaces import STANDARD_PREFIXES
from publisher.negotiation import choose
from publisher.store.patterns import Pattern
from publisher.web.describe import file_quads
from publisher.web.http import cached
from publisher.web.labels import Labels, comment_of, languages_key, preferred_languages
from publisher.web.links import Link, labelled_link, query_href
from publisher.web.picture_data import class_bars, date_index, home_timeline, source_bars
from publisher.web.provenance import Source, source_of
from publisher.web.schema_org import citation, dataset_node, place_node, script_json
from publisher.web.state import ServedBuild, served_build

blueprint = Blueprint("pages", __name__)

RDF_TYPE = STANDARD_PREFIXES["rdf"] + "type"
VOID_EXAMPLE = STANDARD_PREFIXES["void"] + "exampleResource"
EXAMPLES_PER_CLASS = 5
# The home page lists the largest graphs, not all of them: a dataset of 10,000 source
# documents made a 13 MB home page that took 10-35 s to render. The rest: one query away.
HOME_GRAPHS = 50
ALL_GRAPHS_QUERY = (
    "SELECT ?graph (COUNT(*) AS ?statements) WHERE { GRAPH ?graph { ?s ?p ?o } } "
    "GROUP BY ?graph ORDER BY DESC(?statements)"
)

CLASS_COUNTS = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n)
"""


def summary() -> dict[str, object]:
    """Counts per class and per graph, computed once per process (the data is read-only)."""
    state = served_build()
    return state.memo(
        "summary",
        lambda: {
            "classes": [
                (r["class"].value, int(r["n"].value)) for r in state.store.query(CLASS_COUNTS)
            ],
            "graphs": list(state.graph_sizes.items()),
        },
    )


@dataclass
class ClassRow:
    cls: Link
    count: int
    examples: list[Link]


@dataclass
class GraphRow:
    graph: Link
    count: int
    source: Source
    document: Link | None
    publisher: Link | None


def _instances(state: ServedBuild, cls: str, limit: int) -> list[str]:
    found: dict[str, None] = {}
    # From the union default graph: store.quads() reads the named graphs, and skipping the
    # union's copies first cost 0.15 s a class at 10,000 source documents.
    pattern = Pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(cls), ox.DefaultGraph())
    for quad in state.store.match(pattern, limit=limit * 4):
        if isinstance(quad.subject, ox.NamedNode):
            found.setdefault(quad.subject.value)
            if len(found) >= limit:
                break
    return sorted(found)


def home_data(state: ServedBuild, preferred: tuple[str, ...]) -> dict[str, object]:
    labels = Labels(store=state.store, base=state.base, preferred=preferred)

    def link(iri: str) -> Link:
        return labelled_link(labels, iri)

    counts = summary()
    classes = [
        ClassRow(link(cls), n, [link(i) for i in _instances(state, cls, EXAMPLES_PER_CLASS)])
        for cls, n in counts["classes"]  # type: ignore[union-attr]
    ]
    graphs = []
    by_size = sorted(counts["graphs"], key=lambda pair: (-pair[1], pair[0]))  # type: ignore[arg-type]
    for graph, n in by_size[:HOME_GRAPHS]:
        source = source_of(ox.NamedNode(graph), state)
        row = GraphRow(
            link(graph),
            n,
            source,
            link(source.document) if source.document else None,
            link(source.publisher) if source.publisher else None,
        )
        if source.graph_label:
            row.graph.text, row.graph.lang = source.graph_label, None
        graphs.append(row)
    graphs.sort(key=lambda g: (not g.source.is_claim, g.graph.text.lower()))
    void = file_quads(state, VOID_FILE)
    examples = [
        link(q.object.value)
        for q in void
        if q.predicate.value == VOID_EXAMPLE and isinstance(q.object, ox.NamedNode)
    ]
    description = comment_of(void, state.base + "dataset", preferred)
    class_list = "#classes-heading"
    return {
        "classes": classes,
        "graphs": graphs,
        "graphs_more": max(len(by_size) - HOME_GRAPHS, 0),
        "all_graphs_href": query_href(ALL_GRAPHS_QUERY),
        "examples": examples,
        "description": description.value if description is not None else None,
        "source_bars": source_bars(state, labels),
        "class_bars": class_bars(labels, counts["classes"], class_list_href=class_list),  # type: ignore[arg-type]
        "timeline": home_timeline(state, labels),
        "dataset_jsonld": script_json(dataset_jsonld(state)),
        "citation": citation(
            void=void, info=state.info, title=state.settings.title, url=state.base
        ),
    }


SCHEMA = STANDARD_PREFIXES["schema"]
GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"
MAX_COVERAGE = 20  # places and keywords taken from the data for the Dataset description


def dataset_jsonld(state: ServedBuild) -> dict[str, object]:
    """The schema.org Dataset of the home page (once per build and process)."""

    def make() -> dict[str, object]:
        labels = Labels(store=state.store, base=state.base, preferred=("en",))
        events = _subjects(state, RDF_TYPE, SCHEMA + "Event")
        keywords = sorted({labels.text(iri)[0] for iri in events})[:MAX_COVERAGE]
        places = [_place(state, labels, iri) for iri in _event_places(state, events)]
        spans = list(date_index(state).values())
        temporal = (
            (min(s.start for s in spans), max((s.end or s.start) for s in spans)) if spans else None
        )
        return dataset_node(
            void=file_quads(state, VOID_FILE),
            info=state.info,
            title=state.settings.title,
            keywords=[*keywords, "linked data", "RDF", "SPARQL", "provenance"],
            places=places,
            temporal=temporal,
        )

    return state.memo("schema-org:dataset", make)


def _subjects(state: ServedBuild, predicate: str, obj: str) -> list[str]:
    quads = state.store.quads(None, ox.NamedNode(predicate), ox.NamedNode(obj), limit=1000)
    return sorted({q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)})


def _event_places(state: ServedBuild, events: list[str]) -> list[str]:
    """Where the events happened (schema:location), as the data gives them."""
    found: dict[str, None] = {}
    for iri in events[:MAX_COVERAGE]:
        for quad in state.store.quads(ox.NamedNode(iri), ox.NamedNode(SCHEMA + "location")):
            if isinstance(quad.object, ox.NamedNode):
                found.setdefault(quad.object.value)
    return sorted(found)[:MAX_COVERAGE]


def _place(state: ServedBuild, labels: Labels, iri: str) -> dict[str, object]:
    lat = long = None
    for point in state.store.quads(ox.NamedNode(iri), ox.NamedNode(GEO + "location"), limit=1):
        if isinstance(point.object, ox.NamedNode):
            lat = _number(state, point.object, GEO + "lat")
            long = _number(state, point.object, GEO + "long")
    return place_node(labels.text(iri)[0], lat, long, iri)


def _number(state: ServedBuild, node: ox.NamedNode, predicate: str) -> float | None:
    for quad in state.store.quads(node, ox.NamedNode(predicate), limit=1):
        try:
            return float(quad.object.value)
        except ValueError:
            return None
    return None


# The home page for people first (browsers, curl's */*); an RDF type gets the dataset.
HOME_OFFERS = (formats.HTML, *formats.RDF_FORMATS)


@blueprint.get("/")
def home() -> Response:
    """The home page, or for a client asking for RDF the dataset description (/dataset)."""
    fmt = choose(request.headers.get("Accept"), HOME_OFFERS)
    if fmt is not None and fmt is not formats.HTML:
        from publisher.web.page_types import DATASET
        from publisher.web.resources import serve

        response = serve(DATASET.resolve(base=served_build().base, raw=""))
        response.vary.add("Accept")
        return response
    state = served_build()
    languages = preferred_languages()
    body = render_template("home.html", info=state.info, **home_data(state, languages))
    response = Response(body, content_type="text/html; charset=utf-8")
    response.vary.add("Accept")
    response.vary.add("Accept-Language")
    return cached(response, etag_suffix="home-" + languages_key(languages))
