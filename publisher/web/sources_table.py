"""Sources side by side: what each source states about a thing, one row per statement.

The statement nodes of the data (kg:Count, kg:Characterisation, kg:Attribution, kg:Claim,
kg:Call, kg:Commitment: see ontology/kg.ttl) are `kg:about` the thing, `kg:statedIn` a
document, and carry the source's exact words (schema:text). Rows about the same thing
counted (kg:countOf) or the same kind of statement sit together, so a second source giving a
different figure for the same group is visible at a glance. Each row names its source by the
page's footnote number; the figure or wording is shown as the source gives it (an exact
figure, a lower bound, "number not given", the source's own terms in quotation marks) and
never restated as fact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from publisher.namespaces import STANDARD_PREFIXES
from publisher.store.base import Description
from publisher.web.labels import Labels
from publisher.web.links import local_link
from publisher.web.pictures import Cell

SCHEMA = STANDARD_PREFIXES["schema"]
RDF_TYPE = STANDARD_PREFIXES["rdf"] + "type"
MAX_STATEMENTS = 200  # rows on one page; the SPARQL endpoint has them all
MAX_PARTS = 20  # sub-events whose statements are shown too


@dataclass
class Row:
    topic: Cell  # what is counted or characterised
    kind: str  # count, characterisation...
    source: object  # the page's SourceView (numbered once the page is complete)
    figure: str  # the figure or the source's terms, as the source gives them
    figure_lang: str | None
    statement: Cell  # the statement's own page
    quote: str
    quote_lang: str | None
    about: Cell  # the thing the statement is about (this one or a part of it)


@dataclass
class SourcesTable:
    rows: list[Row]
    truncated: bool

    @property
    def sources(self) -> int:
        return len({id(r.source) for r in self.rows})


KINDS = (  # (class local name, what a row calls it), most specific first
    ("Count", "figure"),
    ("LegalCharacterisation", "legal characterisation"),
    ("Characterisation", "characterisation"),
    ("Attribution", "attribution of responsibility"),
    ("Call", "call"),
    ("Commitment", "commitment"),
    ("Claim", "claim"),
    ("Statement", "statement"),
)
KIND_ORDER = {words: i for i, (_name, words) in enumerate(KINDS)}


def sources_table(
    description: Description,
    *,
    store_quads: Callable[..., list[ox.Quad]],
    base: str,
    labels: Labels,
    source: Callable[[ox.NamedNode | ox.DefaultGraph], object],
) -> SourcesTable | None:
    """The statements about the thing and about its parts (schema:subEvent), side by side."""
    kg = base + "def/"
    about = ox.NamedNode(kg + "about")
    main = ox.NamedNode(description.iri)
    parts = [
        q.object
        for q in description.outgoing
        if q.subject == main
        and q.predicate.value == SCHEMA + "subEvent"
        and isinstance(q.object, ox.NamedNode)
    ]
    statements: dict[ox.NamedNode, ox.NamedNode] = {}  # statement -> the thing it is about
    for quad in description.incoming:
        if quad.predicate == about and isinstance(quad.subject, ox.NamedNode):
            statements.setdefault(quad.subject, main)
    # In IRI order, not the store's: a statement about two parts is shown under the same one
    # whatever store serves the page (embedded or remote).
    for part in sorted(set(parts), key=lambda node: node.value)[:MAX_PARTS]:
        for quad in store_quads(None, about, part, limit=MAX_STATEMENTS):
            if isinstance(quad.subject, ox.NamedNode):
                statements.setdefault(quad.subject, part)
    truncated = len(statements) > MAX_STATEMENTS
    rows = []
    for statement, thing in list(statements.items())[:MAX_STATEMENTS]:
        row = _row(statement, thing, store_quads(statement), kg=kg, labels=labels, source=source)
        if row is not None:
            rows.append(row)
    if not rows:
        return None
    rows.sort(
        key=lambda r: (
            KIND_ORDER.get(r.kind, 99),
            r.topic.text.lower(),
            getattr(r.source, "date", "") or "",
            r.statement.text,
        )
    )
    return SourcesTable(rows, truncated)


def _row(
    statement: ox.NamedNode,
    thing: ox.NamedNode,
    quads: list[ox.Quad],
    *,
    kg: str,
    labels: Labels,
    source: Callable[[ox.NamedNode | ox.DefaultGraph], object],
) -> Row | None:
    values: dict[str, list[ox.Term]] = {}
    graph: ox.NamedNode | ox.DefaultGraph = ox.DefaultGraph()
    for quad in quads:
        values.setdefault(quad.predicate.value, [])
        if quad.object not in values[quad.predicate.value]:
            values[quad.predicate.value].append(quad.object)
        if quad.predicate.value == kg + "statedIn":
            graph = quad.graph_name  # the source's graph holds the statement
    texts = [t for t in values.get(SCHEMA + "text", []) if isinstance(t, ox.Literal)]
    if kg + "statedIn" not in values or not texts:
        return None  # not a statement of a source document
    types = {t.value for t in values.get(RDF_TYPE, []) if isinstance(t, ox.NamedNode)}
    kind = next((words for name, words in KINDS if kg + name in types), "statement")
    quote = texts[0]
    figure, figure_lang = _figure(kind, values, kg=kg, labels=labels)
    topic_iri = next(
        (t.value for t in values.get(kg + "countOf", []) if isinstance(t, ox.NamedNode)),
        thing.value,
    )
    topic_text, topic_lang = labels.text(topic_iri)
    thing_text, thing_lang = labels.text(thing.value)
    statement_text, statement_lang = labels.text(statement.value)
    return Row(
        topic=Cell(topic_text, local_link(topic_iri) or None, topic_lang),
        kind=kind,
        source=source(graph),
        figure=figure,
        figure_lang=figure_lang,
        statement=Cell(statement_text, local_link(statement.value) or None, statement_lang),
        quote=quote.value,
        quote_lang=quote.language,
        about=Cell(thing_text, local_link(thing.value) or None, thing_lang),
    )


def _number(term: ox.Term) -> str:
    try:
        return f"{int(term.value):,}"
    except ValueError:
        return term.value


def _figure(
    kind: str, values: dict[str, list[ox.Term]], *, kg: str, labels: Labels
) -> tuple[str, str | None]:
    """The figure or the source's own terms, worded so that a bound stays a bound."""
    unit = " ".join(t.value for t in values.get(SCHEMA + "unitText", []))
    if kind == "figure":
        exact = values.get(SCHEMA + "value", [])
        bound = values.get(kg + "minExclusive", [])
        if exact:
            return " / ".join(_number(v) for v in exact) + (f" {unit}" if unit else ""), None
        if bound:
            figure = "more than " + " / ".join(_number(v) for v in bound)
            return figure + (f" {unit}" if unit else "") + " (a lower bound)", None
        return "number not given" + (f" ({unit})" if unit else ""), None
    words = [
        t
        for predicate in ("characterisedAs", "callsFor", "commitsTo")
        for t in values.get(kg + predicate, [])
        if isinstance(t, ox.Literal)
    ]
    agents = [
        labels.text(t.value)[0]
        for t in values.get(kg + "responsibleAgent", [])
        if isinstance(t, ox.NamedNode)
    ]
    parts = [f"“{t.value}”" for t in sorted(words, key=lambda t: t.value)]
    if agents:
        parts.append("the source holds responsible: " + ", ".join(sorted(agents)))
    languages = {t.language for t in words}
    return "; ".join(parts), (languages.pop() if len(languages) == 1 else None)
