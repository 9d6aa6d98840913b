"""Target -> does it exist? -> the statements that describe it (steps 3-4 of the pipeline).

The page types (web/page_types.py) pick one `exists` and one `describe` function of this
module each. Every describe yields one `Document`: the quads the RDF variants serialize (each
keeps the graph it came from) plus what the HTML page needs beyond them. Lookups go through
the store interface with the IRI as a term; no IRI is ever spliced into query text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from publisher.store.base import Description
from publisher.web.resolve import Target
from publisher.web.state import ServedBuild


@dataclass
class Document:
    target: Target
    iri: str  # the spelling of the IRI found in the store
    quads: list[ox.Quad]
    description: Description | None = None  # for things and terms: outgoing/incoming split
    subjects: list[ox.NamedNode | ox.BlankNode] = field(default_factory=list)  # page order


# -- exists? : the spelling of the target's IRI that the dataset has, or None (-> 404) -----------
def in_store(target: Target, state: ServedBuild) -> str | None:
    for iri in target.candidates or (target.iri,):
        if state.store.exists(iri):
            return iri
    return None


def named_graph(target: Target, state: ServedBuild) -> str | None:
    """A named graph exists even when nothing is said about it (it has triples)."""
    for iri in target.candidates or (target.iri,):
        if iri in state.graph_sizes or state.store.exists(iri):
            return iri
    return None


def always(target: Target, state: ServedBuild) -> str | None:
    return target.iri


def dist_file_exists(name: str) -> Callable[[Target, ServedBuild], str | None]:
    def exists(target: Target, state: ServedBuild) -> str | None:
        return target.iri if (state.dist / name).is_file() else None

    return exists


# -- describe -------------------------------------------------------------------------------------
def node(target: Target, iri: str, state: ServedBuild) -> Document:
    """A thing or a term: what the store says about it, outgoing and incoming."""
    description = state.store.describe(iri)
    subjects: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(iri)]
    return Document(target, iri, description.quads, description=description, subjects=subjects)


def graph(target: Target, iri: str, state: ServedBuild) -> Document:
    """The graph's own statements, then what the provenance says about the graph."""
    name = ox.NamedNode(iri)
    contents = state.store.quads(graph=name)
    about = state.store.describe(iri)
    quads = _unique([*about.outgoing, *about.incoming, *contents])
    return Document(target, iri, quads, description=about, subjects=_subjects(name, quads))


def ontology(target: Target, iri: str, state: ServedBuild) -> Document:
    about = state.store.describe(iri)
    terms = state.store.quads(graph=ox.NamedNode(state.base + "graph/ontology"))
    quads = _unique([*about.outgoing, *terms, *about.incoming])
    # The page documents the terms in its own tables (each links to the term's page).
    return Document(target, iri, quads, description=about, subjects=[ox.NamedNode(iri)])


def dist_file(name: str) -> Callable[[Target, str, ServedBuild], Document]:
    """A Turtle file of dist/ (the dataset description, the shapes), read once per process."""

    def describe(target: Target, iri: str, state: ServedBuild) -> Document:
        quads = file_quads(state, name)
        return Document(target, iri, quads, subjects=_subjects(ox.NamedNode(iri), quads))

    return describe


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
