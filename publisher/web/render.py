"""Document -> bytes, one renderer per format of the table (Datasette-style).

The description is computed once per request; each renderer only serializes it. Every
format's default graph is the union of the statements; dataset formats (N-Quads, TriG,
JSON-LD) also keep every statement in the named graph it came from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from flask import render_template

from publisher import formats
from publisher.formats import Format
from publisher.namespaces import prefixes
from publisher.web.describe import Document
from publisher.web.state import ServedBuild


@dataclass(frozen=True)
class RenderContext:
    state: ServedBuild
    preferred_languages: tuple[str, ...]
    alternates: list[tuple[Format, str]]  # every variant and its URL, for the HTML links


# Namespaces whose local names contain "/" (id:place/x): Turtle would have to write
# id:place\/x, which reads worse than the full IRI, so these stay unabbreviated.
SLASHED_PREFIXES = frozenset({"id", "graph"})


def used_prefixes(quads: Iterable[ox.Quad], base: str) -> dict[str, str]:
    """Only the prefixes the statements use, so a small description stays small."""
    iris: set[str] = set()
    for quad in quads:
        for term in (quad.subject, quad.predicate, quad.object, quad.graph_name):
            if isinstance(term, ox.NamedNode):
                iris.add(term.value)
            elif isinstance(term, ox.Literal):
                iris.add(term.datatype.value)
    used = {}
    for prefix, namespace in prefixes(base).items():
        if prefix in SLASHED_PREFIXES:
            continue
        if any(iri.startswith(namespace) and len(iri) > len(namespace) for iri in iris):
            used[prefix] = namespace
    return used


def _key(term: ox.Term) -> str:
    return str(term)


def _subject_rank(subject: ox.Term, main: str | None) -> tuple[int, str]:
    # The described IRI first, then the blank nodes it leads to, then everything else.
    if isinstance(subject, ox.NamedNode) and subject.value == main:
        return (0, "")
    return (1 if isinstance(subject, ox.BlankNode) else 2, _key(subject))


def union_triples(quads: Iterable[ox.Quad], *, main: str | None = None) -> list[ox.Triple]:
    triples = dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in quads)
    # Grouped by subject, so that Turtle and RDF/XML write each subject once.
    return sorted(
        triples, key=lambda t: (_subject_rank(t.subject, main), _key(t.predicate), _key(t.object))
    )


def dataset_quads(quads: Iterable[ox.Quad], *, main: str | None = None) -> list[ox.Quad]:
    """What a dataset format (N-Quads, TriG, JSON-LD) carries: the default graph holds the
    deduplicated union (so a client reading only the default graph, as rdflib's Graph,
    jsonld.js toRDF, Jena and Comunica do, gets the Turtle variant's triples), and each named
    graph the statements it makes (the provenance)."""
    quads = list(quads)
    default = ox.DefaultGraph()
    union = [
        ox.Quad(t.subject, t.predicate, t.object, default) for t in union_triples(quads, main=main)
    ]
    named = sorted(
        {q for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)},
        key=lambda q: (
            _key(q.graph_name),
            _subject_rank(q.subject, main),
            _key(q.predicate),
            _key(q.object),
        ),
    )
    return union + named


def serialize_rdf(
    quads: Sequence[ox.Quad], fmt: Format, *, base: str, main: str | None = None
) -> bytes:
    """The format's writer on the union (default graph) and the named graphs; a triple format
    writes the union. RDF/XML raises NotXmlSafe naming the term: never broken XML."""
    return fmt.write(
        dataset_quads(quads, main=main), prefixes=used_prefixes(quads, base), base=base
    )


def script_json(jsonld: bytes) -> str:
    """JSON-LD safe inside <script>: '<', '>' and '&' only occur in strings, so escape them."""
    text = jsonld.decode("utf-8")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(document: Document, context: RenderContext) -> bytes:
    from publisher.web.view import build_page

    state = context.state
    jsonld = script_json(
        serialize_rdf(document.quads, formats.JSON_LD, base=state.base, main=document.iri)
    )
    page = build_page(
        document,
        state=state,
        preferred=context.preferred_languages,
        alternates=context.alternates,
        jsonld=jsonld,
    )
    page_type = document.target.page
    extra = page_type.template_context(state, context.preferred_languages)
    return render_template(page_type.template, page=page, **extra).encode("utf-8")


def render(document: Document, fmt: Format, context: RenderContext) -> bytes:
    renderer = RENDERERS.get(fmt.name)
    if renderer is None:
        return serialize_rdf(document.quads, fmt, base=context.state.base, main=document.iri)
    return renderer(document, context)


RENDERERS: dict[str, Callable[[Document, RenderContext], bytes]] = {"html": render_html}


# -- 404 in the negotiated format: an empty graph that says why ------------------------------
def not_found_body(iri: str, fmt: Format, *, base: str, message: str) -> bytes:
    """An empty description in the requested format, with the message as a comment where the
    syntax has one."""
    if fmt is formats.HTML:
        return render_template(
            "error.html", status=404, title="Not Found", message=message, iri=iri
        ).encode("utf-8")
    return fmt.comment(fmt.write([], base=base), message)
