"""The page types of the linked-data resources: one entry each (Trifid-style configuration).

An entry says which routes serve it and how their path maps to an IRI (`iris`), whether that
IRI exists, how it is described, and which template shows it to people. web/resources.py
registers every entry's routes on one pipeline (resolve -> format -> exists? -> describe ->
render -> caching headers), so a new page type is one entry of `PAGE_TYPES`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from publisher.dist import SHAPES_FILE, VOID_FILE
from publisher.web import describe
from publisher.web.describe import Document
from publisher.web.resolve import NamedDocument, PathBelow, Target
from publisher.web.state import ServedBuild

Exists = Callable[[Target, ServedBuild], str | None]  # -> the IRI's spelling found, or None
Describe = Callable[[Target, str, ServedBuild], Document]
TemplateContext = Callable[[ServedBuild, Sequence[str]], dict[str, object]]


def no_context(state: ServedBuild, preferred: Sequence[str]) -> dict[str, object]:
    return {}


@dataclass(frozen=True)
class PageType:
    name: str  # the route endpoint, and the page's kind in the HTML
    label: str  # what the HTML page calls it
    iris: PathBelow | NamedDocument  # its routes, and path -> IRI
    exists: Exists
    describe: Describe
    template: str = "resource.html"
    template_context: TemplateContext = no_context  # more for the template than the page
    incoming_apart: bool = False  # the HTML page lists links to the IRI apart (things, terms)

    def resolve(self, *, base: str, raw: str) -> Target:
        """The target named by `raw`, the request path after the route (still %-encoded)."""
        return self.iris.target(self, base=base, raw=raw)


def _ontology_terms(state: ServedBuild, preferred: Sequence[str]) -> dict[str, object]:
    from publisher.web.ontology import ontology_terms

    return {"terms": ontology_terms(state, preferred=preferred)}


THING = PageType(
    "thing",
    "Resource",
    # /doc/{type}/{slug} describes {base}id/{type}/{slug}, which /id/ 303s to it.
    PathBelow("/doc/", "id/", "/doc/{type}/{slug}"),
    describe.in_store,
    describe.node,
    incoming_apart=True,
)
TERM = PageType(
    "term",
    "Ontology term",
    PathBelow("/def/", "def/", "/def/{Term}"),
    describe.in_store,
    describe.node,
    incoming_apart=True,
)
ONTOLOGY = PageType(
    "ontology",
    "Ontology",
    NamedDocument("/def/", "def/"),
    describe.in_store,
    describe.ontology,
    template_context=_ontology_terms,
)
GRAPH = PageType(
    "graph",
    "Named graph",
    PathBelow("/graph/", "graph/", "/graph/{slug}"),
    describe.named_graph,
    describe.graph,
)
DATASET = PageType(
    "dataset",
    "Dataset description",
    NamedDocument("/dataset", "dataset"),
    describe.always,
    describe.dist_file(VOID_FILE),
)
SHAPES = PageType(
    "shapes",
    "SHACL shapes",
    NamedDocument("/shapes", "shapes"),
    describe.dist_file_exists(SHAPES_FILE),
    describe.dist_file(SHAPES_FILE),
)

PAGE_TYPES: tuple[PageType, ...] = (THING, TERM, ONTOLOGY, GRAPH, DATASET, SHAPES)
