"""Target -> the statements that describe it (step 3 of exists? -> describe -> render).

Every kind of target yields one `Document`: the quads the RDF variants serialize (each keeps
the graph it came from) plus what the HTML page needs beyond them. Lookups go through the
store interface with the IRI as a term; no IRI is ever spliced into query text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from publisher.dist import SHAPES_FILE, VOID_FILE
from publisher.store.base import Description
from publisher.web.resolve import Kind, Target
from publisher.web.state import ServedBuild


@dataclass
class Document:
    target: Target
    iri: str  # the spelling of the IRI found in the store
    quads: list[ox.Quad]
    description: Description | None = None  # for things and terms: outgoing/incoming split
    subjects: list[ox.NamedNode | ox.BlankNode] = field(default_factory=list)  # page order


def find(target: Target, state: ServedBuild) -> str | None:
    """The spelling of the target's IRI that the dataset has, or None (-> 404)."""
    if target.kind is Kind.DATASET:
        return target.iri
    if target.kind is Kind.SHAPES:
        return target.iri if (state.dist / SHAPES_FILE).is_file() else None
    graphs = state.graph_sizes if target.kind is Kind.GRAPH else {}
    for iri in target.candidates or (target.iri,):
        if iri in graphs or state.store.exists(iri):
            return iri
    return None


def describe(target: Target, iri: str, state: ServedBuild) -> Document:
    store = state.store
    node = ox.NamedNode(iri)
    if target.kind in (Kind.THING, Kind.TERM):
        description = store.describe(iri)
        return Document(target, iri, description.quads, description=description, subjects=[node])
    if target.kind is Kind.GRAPH:
        # The graph's own statements, then what the provenance says about the graph.
        contents = store.quads(graph=node)
        about = store.describe(iri)
        quads = _unique([*about.outgoing, *about.incoming, *contents])
        return Document(target, iri, quads, description=about, subjects=_subjects(node, quads))
    if target.kind is Kind.ONTOLOGY:
        about = store.describe(iri)
        ontology = store.quads(graph=ox.NamedNode(state.base + "graph/ontology"))
        quads = _unique([*about.outgoing, *ontology, *about.incoming])
        # The page documents the terms in its own tables (each links to the term's page).
        return Document(target, iri, quads, description=about, subjects=[node])
    # The dataset description and the shapes are files of dist/, read once per process.
    quads = file_quads(state, VOID_FILE if target.kind is Kind.DATASET else SHAPES_FILE)
    return Document(target, iri, quads, subjects=_subjects(node, quads))


def file_quads(state: ServedBuild, name: str) -> list[ox.Quad]:
    """A Turtle file of dist/ as quads in the default graph (it belongs to no source graph)."""
    path = state.dist / name

    def read() -> list[ox.Quad]:
        if not path.is_file():
            return []
        with path.open("rb") as stream:
            return list(ox.parse(stream, format=ox.RdfFormat.TURTLE, base_iri=state.base))

    return state.memo(f"file:{name}", read)


def _unique(quads: list[ox.Quad]) -> list[ox.Quad]:
    return list(dict.fromkeys(quads))


def _subjects(main: ox.NamedNode, quads: list[ox.Quad]) -> list[ox.NamedNode | ox.BlankNode]:
    """Subjects shown as their own sections: the main one first, then named ones in order.

    Blank nodes reached from another subject are shown nested under it, so only blank nodes
    nobody points to get a section of their own.
    """
    pointed = {q.object for q in quads if isinstance(q.object, ox.BlankNode)}
    order: dict[ox.NamedNode | ox.BlankNode, None] = {main: None}
    for quad in quads:
        if isinstance(quad.subject, ox.NamedNode) or quad.subject not in pointed:
            order.setdefault(quad.subject)
    return list(order)
