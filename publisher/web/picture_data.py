"""What the pictures show, read from the store: dated things, a resource's neighbourhood,
classes and sources at a glance. web/pictures.py draws them.

Everything goes through the store interface (quads and describe with terms, trusted queries
whose text holds no IRI from a request), and what does not change until the next build is
computed once per build and process (`ServedBuild.memo`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import pyoxigraph as ox

from publisher.namespaces import STANDARD_PREFIXES
from publisher.store.base import LABEL_PREDICATES, Description
from publisher.web.labels import Labels
from publisher.web.links import local_link, query_href
from publisher.web.pictures import Bar, Cell, Dated, Neighbour, Picture
from publisher.web.pictures import bars as draw_bars
from publisher.web.pictures import neighbourhood as draw_neighbourhood
from publisher.web.pictures import timeline as draw_timeline
from publisher.web.provenance import source_of
from publisher.web.state import ServedBuild

SCHEMA = STANDARD_PREFIXES["schema"]
DCT = STANDARD_PREFIXES["dct"]
RDF_TYPE = STANDARD_PREFIXES["rdf"] + "type"

# When things happened or were published. Not dct:created/modified: those date the curation
# of a graph, not the events and documents the data is about.
START_PREDICATES: tuple[str, ...] = (
    SCHEMA + "startDate",
    DCT + "issued",
    SCHEMA + "datePublished",
    DCT + "date",
    SCHEMA + "dateCreated",
)
END_PREDICATES: tuple[str, ...] = (SCHEMA + "endDate",)
DATE_WORDS = {
    SCHEMA + "startDate": "start date",
    SCHEMA + "endDate": "end date",
    DCT + "issued": "issued",
    SCHEMA + "datePublished": "published",
    DCT + "date": "date",
    SCHEMA + "dateCreated": "created",
}
# At most this many dated statements are read into the per-build index (a huge dataset's
# home page shows the most connected ones anyway; the SPARQL link lists all).
MAX_DATED = 50_000
HOME_SOURCES = 30  # source documents drawn on the home page
HOME_TIMELINE_ITEMS = 40
PAGE_TIMELINE_ITEMS = 30
NEIGHBOURS = 16  # first-hop nodes drawn; the rest are "and N more"
SECOND_HOP_WHEN_AT_MOST = 6  # first-hop nodes: below this, their own links are drawn too
SECOND_HOP_PER_NODE = 3
HOME_CLASSES = 12
# Links that are not worth an edge: types are said in words, labels are the nodes' names.
NOT_EDGES = frozenset({RDF_TYPE, *LABEL_PREDICATES})


@dataclass(frozen=True)
class DateSpan:
    start: date
    end: date | None
    what: str


def parse_date(literal: ox.Term) -> date | None:
    """A calendar date from an xsd:date, xsd:dateTime or xsd:gYear literal (else None)."""
    if not isinstance(literal, ox.Literal):
        return None
    text = literal.value.strip()
    try:
        if len(text) == 4 and text.isdigit():
            return date(int(text), 1, 1)
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def date_index(state: ServedBuild) -> dict[str, DateSpan]:
    """Every dated IRI -> its span (earliest start, latest end), once per build and process."""

    def build() -> dict[str, DateSpan]:
        starts: dict[str, list[tuple[date, str]]] = {}
        ends: dict[str, list[date]] = {}
        for predicate in (*START_PREDICATES, *END_PREDICATES):
            for quad in state.store.quads(None, ox.NamedNode(predicate), limit=MAX_DATED):
                day = parse_date(quad.object)
                if day is None or not isinstance(quad.subject, ox.NamedNode):
                    continue
                if predicate in END_PREDICATES:
                    ends.setdefault(quad.subject.value, []).append(day)
                else:
                    starts.setdefault(quad.subject.value, []).append((day, DATE_WORDS[predicate]))
        index = {}
        for iri in sorted(set(starts) | set(ends)):
            begin = min(starts.get(iri, []), default=None)
            end = max(ends.get(iri, []), default=None)
            if begin is None:
                assert end is not None
                index[iri] = DateSpan(end, None, "end date")
                continue
            words = begin[1] + (" – end date" if end and end != begin[0] else "")
            index[iri] = DateSpan(begin[0], end if end and end > begin[0] else None, words)
        return index

    return state.memo("pictures:dates", build)


def _dated(labels: Labels, iri: str, span: DateSpan, kinds: Sequence[str]) -> Dated | None:
    href = local_link(iri)
    if not href:
        return None
    text, lang = labels.text(iri)
    return Dated(href, text, lang, span.start, span.end, span.what, ", ".join(kinds))


def _kinds(state: ServedBuild, labels: Labels, iri: str) -> list[str]:
    types = state.store.quads(ox.NamedNode(iri), ox.NamedNode(RDF_TYPE), limit=4)
    found = dict.fromkeys(q.object.value for q in types if isinstance(q.object, ox.NamedNode))
    return [labels.text(t)[0] for t in found]


# -- timelines ----------------------------------------------------------------------------------
# Constant text (no IRI from a request): the most linked-to dated things, for a big dataset.
MOST_CONNECTED_DATED = (
    "SELECT ?s (COUNT(?x) AS ?n) WHERE { VALUES ?p { "
    + " ".join(f"<{p}>" for p in START_PREDICATES)
    + " } ?s ?p ?d . OPTIONAL { ?x ?q ?s } } GROUP BY ?s ORDER BY DESC(?n) ?s LIMIT "
    + str(HOME_TIMELINE_ITEMS)
)
ALL_DATED_QUERY = (
    "PREFIX schema: <https://schema.org/>\nPREFIX dct: <http://purl.org/dc/terms/>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "# Every dated resource, in date order.\n"
    "SELECT DISTINCT ?resource ?label ?date ?dateProperty WHERE {\n"
    "  VALUES ?dateProperty { schema:startDate dct:issued schema:datePublished dct:date "
    "schema:dateCreated }\n"
    "  ?resource ?dateProperty ?date .\n"
    '  OPTIONAL { ?resource rdfs:label ?label FILTER(LANGMATCHES(LANG(?label), "en")) }\n'
    "} ORDER BY ?date ?resource"
)


def all_dated_href() -> str:
    return query_href(ALL_DATED_QUERY)


def home_timeline(state: ServedBuild, labels: Labels) -> Picture | None:
    index = date_index(state)
    if not index:
        return None
    chosen = list(index)
    more = 0
    if len(chosen) > HOME_TIMELINE_ITEMS:
        rows = state.memo("pictures:most-connected", lambda: list(_query(state)))
        chosen = [iri for iri in rows if iri in index]
        more = len(index) - len(chosen)
    kinds = state.memo(
        "pictures:home-kinds", lambda: {iri: _type_iris(state, iri) for iri in chosen}
    )
    items = []
    for iri in chosen:
        item = _dated(labels, iri, index[iri], [labels.text(t)[0] for t in kinds.get(iri, [])])
        if item is not None:
            items.append(item)
    if not items:
        return None
    return draw_timeline(
        "home-timeline",
        items,
        title="Timeline of the dated events and documents",
        more=more,
        more_href=all_dated_href() if more else None,
    )


def _query(state: ServedBuild) -> Iterable[str]:
    for row in state.store.query(MOST_CONNECTED_DATED):
        subject = row["s"]
        if isinstance(subject, ox.NamedNode):
            yield subject.value


def _type_iris(state: ServedBuild, iri: str) -> list[str]:
    types = state.store.quads(ox.NamedNode(iri), ox.NamedNode(RDF_TYPE), limit=4)
    return list(dict.fromkeys(q.object.value for q in types if isinstance(q.object, ox.NamedNode)))


def linked_iris(description: Description) -> list[str]:
    """The IRIs a resource links to and that link to it (first hop), in a stable order."""
    main = description.iri
    found: dict[str, None] = {}
    for quad in description.outgoing:
        if (
            isinstance(quad.subject, ox.NamedNode)
            and quad.subject.value == main
            and isinstance(quad.object, ox.NamedNode)
            and quad.predicate.value not in NOT_EDGES
        ):
            found.setdefault(quad.object.value)
    for quad in description.incoming:
        if isinstance(quad.subject, ox.NamedNode) and quad.predicate.value not in NOT_EDGES:
            found.setdefault(quad.subject.value)
    found.pop(main, None)
    return list(found)


def thing_timeline(state: ServedBuild, labels: Labels, description: Description) -> Picture | None:
    """The thing and the dated things it relates to (one hop), when any of them is dated."""
    index = date_index(state)
    related = [iri for iri in linked_iris(description) if iri in index]
    iris = ([description.iri] if description.iri in index else []) + related
    if not iris:
        return None
    more = max(len(iris) - PAGE_TIMELINE_ITEMS, 0)
    items = [
        item
        for iri in iris[:PAGE_TIMELINE_ITEMS]
        if (item := _dated(labels, iri, index[iri], _kinds(state, labels, iri))) is not None
    ]
    if not items:
        return None
    return draw_timeline(
        "page-timeline",
        items,
        title="Timeline: this resource and the dated things it relates to",
        more=more,
        more_href=all_dated_href() if more else None,
    )


# -- the neighbourhood --------------------------------------------------------------------------
def thing_neighbourhood(
    state: ServedBuild, labels: Labels, description: Description
) -> Picture | None:
    main = description.iri
    edges: dict[str, list[tuple[str, str]]] = {}

    def add(iri: str, direction: str, predicate: str) -> None:
        edge = (direction, labels.text(predicate)[0])
        if edge not in edges.setdefault(iri, []):
            edges[iri].append(edge)

    for quad in description.outgoing:
        if (
            isinstance(quad.subject, ox.NamedNode)
            and quad.subject.value == main
            and isinstance(quad.object, ox.NamedNode)
            and quad.predicate.value not in NOT_EDGES
            and quad.object.value != main
        ):
            add(quad.object.value, "out", quad.predicate.value)
    for quad in description.incoming:
        if (
            isinstance(quad.subject, ox.NamedNode)
            and quad.predicate.value not in NOT_EDGES
            and quad.subject.value != main
        ):
            add(quad.subject.value, "in", quad.predicate.value)
    if not edges:
        return None
    # Most-linked first, then by label: a stable choice of what fits.
    order = sorted(edges, key=lambda iri: (-len(edges[iri]), labels.text(iri)[0].lower(), iri))
    shown = order[:NEIGHBOURS]
    more = len(order) - len(shown) + (1 if description.incoming_truncated else 0)
    nodes = [_neighbour(labels, iri, tuple(edges[iri])) for iri in shown]
    if len(shown) <= SECOND_HOP_WHEN_AT_MOST:
        nodes += _second_hop(state, labels, main, shown)
    centre_text, centre_lang = labels.text(main)
    return draw_neighbourhood(
        "neighbourhood",
        Cell(centre_text, None, centre_lang),
        nodes,
        title=f"Neighbourhood of {centre_text}",
        more=more,
    )


def _neighbour(
    labels: Labels, iri: str, edges: tuple[tuple[str, str], ...], *, via: str | None = None
) -> Neighbour:
    text, lang = labels.text(iri)
    return Neighbour(local_link(iri) or None, text, lang, iri, edges, hop=2 if via else 1, via=via)


def _second_hop(state: ServedBuild, labels: Labels, main: str, first: list[str]) -> list[Neighbour]:
    """What the first-hop nodes link to (outgoing only, a few each), not already drawn."""
    drawn = {main, *first}
    nodes: list[Neighbour] = []
    for parent in first:
        found: dict[str, list[tuple[str, str]]] = {}
        for quad in state.store.quads(ox.NamedNode(parent), limit=200):
            target = quad.object
            if (
                isinstance(target, ox.NamedNode)
                and quad.predicate.value not in NOT_EDGES
                and target.value not in drawn
                and local_link(target.value).startswith("/")  # this dataset's own things
            ):
                edge = ("out", labels.text(quad.predicate.value)[0])
                if edge not in found.setdefault(target.value, []):
                    found[target.value].append(edge)
        for iri in sorted(found)[:SECOND_HOP_PER_NODE]:
            drawn.add(iri)
            nodes.append(_neighbour(labels, iri, tuple(found[iri]), via=parent))
    return nodes


# -- the home page at a glance --------------------------------------------------------------------
def class_bars(
    labels: Labels, classes: Sequence[tuple[str, int]], *, class_list_href: str
) -> Picture | None:
    if not classes:
        return None
    shown = classes[:HOME_CLASSES]
    items = [Bar(local_link(cls) or None, *labels.text(cls), value=count) for cls, count in shown]
    more = len(classes) - len(shown)
    return draw_bars(
        "home-classes",
        items,
        title="Resources per class",
        unit="resources",
        columns=["Class", "Resources"],
        more=more,
        more_href=class_list_href if more else None,
        more_text=f"and {more} more classes" if more else "",
    )


def source_bars(state: ServedBuild, labels: Labels) -> Picture | None:
    """Each source document's graph: how many statements, and the document's date. The
    HOME_SOURCES largest; the others are one query away (10,000 bars made a 6 MB page)."""
    sources = state.memo("home:source_graphs", lambda: _source_graphs(state))
    if not sources:
        return None
    shown = sources[:HOME_SOURCES]
    items = [
        Bar(local_link(graph) or None, *labels.text(document), count, date)
        for graph, document, count, date in shown
    ]
    items.sort(key=lambda b: (b.note, b.label))
    more = len(sources) - len(shown)
    return draw_bars(
        "home-sources",
        items,
        title="Source documents: statements taken from each, and its date",
        unit="statements",
        columns=["Source document", "Statements", "Date"],
        more=more,
        more_href=all_sources_href() if more else None,
        more_text=f"and {more} more source documents" if more else "",
    )


def _source_graphs(state: ServedBuild) -> list[tuple[str, str, int, str]]:
    """(graph, document, statements, date) of every source document's graph, largest first:
    once per build and process."""
    found = []
    for graph, count in state.graph_sizes.items():
        source = source_of(ox.NamedNode(graph), state)
        if source.is_claim and source.document:
            found.append((graph, source.document, count, source.date or ""))
    found.sort(key=lambda row: (-row[2], row[0]))
    return found


def all_sources_href() -> str:
    query = (
        "PREFIX prov: <http://www.w3.org/ns/prov#>\n"
        "SELECT ?graph ?document (COUNT(*) AS ?statements) WHERE {\n"
        "  ?graph prov:wasDerivedFrom ?document .\n  GRAPH ?graph { ?s ?p ?o }\n"
        "} GROUP BY ?graph ?document ORDER BY DESC(?statements)"
    )
    return query_href(query)
