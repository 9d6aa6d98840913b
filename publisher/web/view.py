"""Document -> what an HTML page shows: labelled statements grouped by subject and property.

Everything the template needs is computed here (labels in the reader's language, links,
sources of statements), so the template only lays it out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from publisher.formats import Format
from publisher.namespaces import STANDARD_PREFIXES
from publisher.store.base import LABEL_PREDICATES
from publisher.web.describe import Document
from publisher.web.labels import Labels, comment_of, short_name
from publisher.web.links import local_link
from publisher.web.picture_data import date_index, thing_neighbourhood, thing_timeline
from publisher.web.pictures import Picture
from publisher.web.provenance import Source, source_of
from publisher.web.schema_org import Citation, citation, resource_node, script_json
from publisher.web.sources_table import SourcesTable, sources_table
from publisher.web.state import ServedBuild

RDF_TYPE = STANDARD_PREFIXES["rdf"] + "type"
XSD = STANDARD_PREFIXES["xsd"]
MAX_NESTING = 8
# Datatypes whose values read fine without a note.
PLAIN_DATATYPES = {XSD + "string", STANDARD_PREFIXES["rdf"] + "langString"}


@dataclass
class Node:
    kind: str  # "iri" | "literal" | "blank"
    text: str
    lang: str | None = None  # lang attribute of the text
    href: str | None = None
    title: str | None = None  # the full IRI, shown on hover
    note: str | None = None  # datatype or language tag, shown small
    nested: Block | None = None  # a blank node's own statements


@dataclass
class SourceView:
    href: str | None
    graph_label: str
    document: Node | None
    publisher: Node | None
    date: str | None
    claim: bool
    number: int = 0  # its footnote number on the page (1, 2, ...), set when the page is done


@dataclass
class Value:
    node: Node
    sources: list[SourceView] = field(default_factory=list)


@dataclass
class Group:
    predicate: Node
    values: list[Value]


@dataclass
class Block:
    subject: Node
    anchor: str
    groups: list[Group]

    @property
    def rows(self) -> int:
        return sum(len(g.values) for g in self.groups)


@dataclass
class Incoming:
    subject: Node
    predicate: Node
    sources: list[SourceView]


@dataclass
class Page:
    kind: str  # the page type's name
    kind_label: str  # what the page type is called
    iri: str
    title: str
    title_lang: str | None
    types: list[Node]
    comment: Node | None
    blocks: list[Block]
    incoming: list[Incoming]
    incoming_truncated: bool
    truncated: bool
    statements: int
    alternates: list[tuple[Format, str]]
    jsonld: str
    sources: list[SourceView]  # every source the page draws on, numbered: the footnotes
    timeline: Picture | None = None
    neighbourhood: Picture | None = None
    comparison: SourcesTable | None = None  # the sources side by side
    schema_org: str = ""  # schema.org JSON-LD, escaped for <script>
    citation: Citation | None = None  # on the dataset description


class PageBuilder:
    def __init__(self, document: Document, *, state: ServedBuild, labels: Labels) -> None:
        self.document = document
        self.state = state
        self.labels = labels
        self.base = state.base
        self._sources: dict[str, SourceView] = {}

    # -- terms ---------------------------------------------------------------------------
    def iri(self, iri: str) -> Node:
        text, lang = self.labels.text(iri)
        return Node("iri", text, lang=lang, href=local_link(iri), title=iri)

    def literal(self, literal: ox.Literal) -> Node:
        if literal.language:
            return Node("literal", literal.value, lang=literal.language, note=literal.language)
        datatype = literal.datatype.value
        note = None if datatype in PLAIN_DATATYPES else short_name(datatype, base=self.base)
        return Node("literal", literal.value, note=note, title=datatype if note else None)

    def term(
        self, term: ox.Term, index: dict[ox.Term, list[ox.Quad]], seen: set[ox.BlankNode]
    ) -> Node:
        if isinstance(term, ox.NamedNode):
            return self.iri(term.value)
        if isinstance(term, ox.Literal):
            return self.literal(term)
        # Nested to a bounded depth along this path; cycles are cut by `seen`.
        if (
            isinstance(term, ox.BlankNode)
            and term in index
            and term not in seen
            and len(seen) < MAX_NESTING
        ):
            return Node("blank", "", nested=self.block(term, index, seen | {term}))
        return Node("blank", "(a node without a name)")

    def source(self, graph: ox.NamedNode | ox.DefaultGraph) -> SourceView:
        key = graph.value if isinstance(graph, ox.NamedNode) else ""
        if key not in self._sources:
            found: Source = source_of(graph, self.state)
            label = found.graph_label or short_name(key, base=self.base) or "this dataset"
            self._sources[key] = SourceView(
                href=local_link(key) if key else None,
                graph_label=label,
                document=self.iri(found.document) if found.document else None,
                publisher=self.iri(found.publisher) if found.publisher else None,
                date=found.date,
                claim=found.is_claim,
            )
        return self._sources[key]

    # -- statements ------------------------------------------------------------------------
    def block(
        self,
        subject: ox.NamedNode | ox.BlankNode,
        index: dict[ox.Term, list[ox.Quad]],
        seen: set[ox.BlankNode] | None = None,
    ) -> Block:
        seen = seen or set()
        by_predicate: dict[str, dict[ox.Term, Value]] = defaultdict(dict)
        for quad in index.get(subject, ()):
            values = by_predicate[quad.predicate.value]
            if quad.object not in values:
                values[quad.object] = Value(self.term(quad.object, index, seen))
            source = self.source(quad.graph_name)
            if source not in values[quad.object].sources:
                values[quad.object].sources.append(source)
        groups = [
            Group(self.iri(predicate), sorted(values.values(), key=_value_order))
            for predicate, values in by_predicate.items()
        ]
        groups.sort(key=_group_order)
        if isinstance(subject, ox.NamedNode):
            node = self.iri(subject.value)
            anchor = "s-" + _anchor(subject.value)
        else:
            node = Node("blank", "(a node without a name)")
            anchor = "b-" + _anchor(subject.value)
        return Block(node, anchor, groups)

    def page(self, *, alternates: list[tuple[Format, str]], jsonld: str) -> Page:
        """The whole page: statement blocks, incoming links, title, types and sources."""
        document = self.document
        description = document.description
        self.labels.add_quads(document.quads)
        limit = int(self.state.settings.html_max_rows)
        incoming_quads = self._incoming_quads()
        blocks, truncated = self._blocks(self._shown_by_subject(incoming_quads), limit=limit)
        title, title_lang = self.labels.text(document.iri)
        comment = comment_of(document.quads, document.iri, self.labels.preferred)
        page = Page(
            kind=document.target.page.name,
            kind_label=document.target.page.label,
            iri=document.iri,
            title=title,
            title_lang=title_lang,
            types=self._types(),
            comment=self.literal(comment) if comment is not None else None,
            blocks=blocks,
            incoming=self._incoming(incoming_quads[:limit]),
            incoming_truncated=bool(description and description.incoming_truncated)
            or len(incoming_quads) > limit,
            truncated=truncated,
            statements=len(document.quads),
            alternates=alternates,
            jsonld=jsonld,
            sources=[],
        )
        if description is not None and document.target.page.name == "thing":
            page.timeline = thing_timeline(self.state, self.labels, description)
            page.neighbourhood = thing_neighbourhood(self.state, self.labels, description)
            page.comparison = sources_table(
                description,
                store_quads=self.state.store.quads,
                base=self.base,
                labels=self.labels,
                source=self.source,
            )
        if document.target.page.name == "dataset":
            page.citation = citation(
                void=document.quads,
                info=self.state.info,
                title=self.state.settings.title,
                url=document.iri,
            )
        # Every source once, numbered: claims first (the sources proper), then the rest.
        page.sources = sorted(self._sources.values(), key=lambda s: (not s.claim, s.graph_label))
        for number, source in enumerate(page.sources, start=1):
            source.number = number
        page.schema_org = self._schema_org(page, comment)
        return page

    def _schema_org(self, page: Page, comment: ox.Literal | None) -> str:
        span = date_index(self.state).get(page.iri)
        return script_json(
            resource_node(
                iri=page.iri,
                url=page.iri,  # dereferenceable: a browser gets this page
                name=page.title,
                name_lang=page.title_lang,
                description=comment.value if comment is not None else None,
                quads=self.document.quads,
                base=self.base,
                dates=(span.start, span.end) if span else None,
            )
        )

    def _incoming_quads(self) -> list[ox.Quad]:
        """Links to a thing from elsewhere, listed apart from its own statements."""
        description = self.document.description
        if description and self.document.target.page.incoming_apart:
            return list(description.incoming)
        return []

    def _shown_by_subject(self, incoming_quads: list[ox.Quad]) -> dict[ox.Term, list[ox.Quad]]:
        """The statements shown in blocks (not incoming links, not linked labels), by subject."""
        document = self.document
        hidden = set(incoming_quads)
        description = document.description
        if description and document.target.page.incoming_apart:
            # Labels of linked things serve the page; they are not statements about it.
            hidden |= set(description.labels) - set(description.outgoing)
        index: dict[ox.Term, list[ox.Quad]] = defaultdict(list)
        for quad in document.quads:
            if quad not in hidden:
                index[quad.subject].append(quad)
        return index

    def _blocks(
        self, index: dict[ox.Term, list[ox.Quad]], *, limit: int
    ) -> tuple[list[Block], bool]:
        """One block per subject in page order, until `limit` rows (then truncated)."""
        blocks: list[Block] = []
        rows = 0
        for subject in self.document.subjects:
            if subject not in index:
                continue
            if rows >= limit:
                return blocks, True
            block = self.block(subject, index)
            rows += block.rows
            blocks.append(block)
        return blocks, False

    def _incoming(self, quads: list[ox.Quad]) -> list[Incoming]:
        """Incoming links grouped by (subject, predicate), each with the sources that state it."""
        incoming: list[Incoming] = []
        grouped: dict[tuple[ox.Term, str], Incoming] = {}
        for quad in quads:
            key = (quad.subject, quad.predicate.value)
            if key not in grouped:
                subject = (
                    self.iri(quad.subject.value)
                    if isinstance(quad.subject, ox.NamedNode)
                    else Node("blank", "(a node without a name)")
                )
                grouped[key] = Incoming(subject, self.iri(quad.predicate.value), [])
                incoming.append(grouped[key])
            source = self.source(quad.graph_name)
            if source not in grouped[key].sources:
                grouped[key].sources.append(source)
        incoming.sort(key=lambda i: (i.predicate.text.lower(), i.subject.text.lower()))
        return incoming

    def _types(self) -> list[Node]:
        """The main node's classes, once each (by title)."""
        main = ox.NamedNode(self.document.iri)
        quads = dict.fromkeys(
            q for q in self.document.quads if q.subject == main and q.predicate.value == RDF_TYPE
        )
        types = [self.iri(q.object.value) for q in quads if isinstance(q.object, ox.NamedNode)]
        return list({t.title: t for t in types}.values())


def _value_order(value: Value) -> tuple[int, str]:
    return (0 if value.node.kind == "iri" else 1, value.node.text.lower())


_FIRST = {RDF_TYPE: 0, **{p: 1 + i for i, p in enumerate(LABEL_PREDICATES)}}


def _group_order(group: Group) -> tuple[int, str]:
    return (_FIRST.get(group.predicate.title or "", 99), group.predicate.text.lower())


def _anchor(value: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in value)[-80:]


def build_page(
    document: Document,
    *,
    state: ServedBuild,
    preferred: Sequence[str],
    alternates: list[tuple[Format, str]],
    jsonld: str,
) -> Page:
    labels = Labels(store=state.store, base=state.base, preferred=tuple(preferred))
    return PageBuilder(document, state=state, labels=labels).page(
        alternates=alternates, jsonld=jsonld
    )
