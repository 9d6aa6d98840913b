"""/fragments: Triple and Quad Pattern Fragments over the published dataset.

A client such as Comunica evaluates any SPARQL query by asking for quad patterns: each answer
is one page of matching quads, the count of all matches, links to the other pages and the
search form (Hydra controls). Every page is immutable for a build: ETag, Cache-Control, 304.

What the graph parameter means (Quad Pattern Fragments): unbound, every graph (the default
graph, which holds the union of the named graphs, and each named graph); the IRI
`<base>fragments#default-graph` (declared as sd:defaultGraph), the default graph alone, so a
client's triple pattern outside GRAPH sees what /sparql sees; any other IRI, that named graph.
Dataset formats (N-Quads, TriG) carry the metadata in a graph of its own (`<page>#metadata`,
foaf:primaryTopic), triple formats mix it with the data, as the specification says.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import quote

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from publisher import formats
from publisher.formats import Format
from publisher.namespaces import STANDARD_PREFIXES, prefixes
from publisher.negotiation import choose
from publisher.store.patterns import Count, Pattern
from publisher.web.cache import rendered_cache
from publisher.web.describe import file_quads
from publisher.web.errors import BadRequest, NotAcceptable
from publisher.web.fragment_terms import Term, TermSyntaxError, format_term, parse_term
from publisher.web.fragment_terms import query_string as fragment_query
from publisher.web.http import cached
from publisher.web.state import ServedBuild, served_build

blueprint = Blueprint("fragments", __name__)

FRAGMENT_FORMATS: tuple[Format, ...] = formats.RESOURCE_FORMATS
POSITIONS = ("subject", "predicate", "object", "graph")
MAX_PAGE = 1_000_000
# Characters a query string keeps as they are: RFC 3986 reserved and unreserved, and "%".
IRI_QUERY_SAFE = "!#$&'()*+,/:;=?@[]~%"
STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

RDF = STANDARD_PREFIXES["rdf"]
HYDRA = "http://www.w3.org/ns/hydra/core#"
VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
FOAF = "http://xmlns.com/foaf/0.1/"
DCT = "http://purl.org/dc/terms/"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def interface_iri(base: str) -> str:
    return base + "fragments"


def dataset_iri(base: str) -> str:
    """The dataset the fragments are subsets of (hydra:Collection with the search form)."""
    return interface_iri(base) + "#dataset"


def default_graph_iri(base: str) -> str:
    """The name under which a QPF client asks for the default graph (sd:defaultGraph)."""
    return interface_iri(base) + "#default-graph"


def search_template(base: str) -> str:
    return interface_iri(base) + "{?subject,predicate,object,graph}"


@dataclass(frozen=True)
class FragmentRequest:
    """A parsed request: the pattern, its parameters as terms (None: a variable), the page."""

    pattern: Pattern
    terms: dict[str, Term | None]
    page: int


@dataclass
class Fragment:
    """One page of a fragment: what every format (and the HTML page) is rendered from."""

    page_iri: str
    request: FragmentRequest
    quads: list[ox.Quad]
    count: Count
    page_size: int

    @property
    def last_page(self) -> int:
        return max(1, -(-self.count.value // self.page_size))

    @property
    def has_next(self) -> bool:
        # A page that came back full may have a successor even when the count is a bound.
        return len(self.quads) == self.page_size and (
            not self.count.exact or self.request.page < self.last_page
        )

    def link(self, base: str, page: int) -> str:
        return interface_iri(base) + fragment_query(self.request.terms, page=page)


# -- step 1: the request ---------------------------------------------------------------------
def parse_request(base: str) -> FragmentRequest:
    terms: dict[str, Term | None] = {}
    for name in POSITIONS:
        raw = request.args.get(name, "")
        try:
            terms[name] = parse_term(raw)
        except TermSyntaxError as error:
            raise BadRequest(f"parameter {name}: {error}") from error
    subject, predicate, obj, graph = (terms[name] for name in POSITIONS)
    if isinstance(subject, ox.Literal):
        raise BadRequest("parameter subject: a literal cannot be a subject")
    if predicate is not None and not isinstance(predicate, ox.NamedNode):
        raise BadRequest("parameter predicate: a predicate is an IRI")
    if graph is not None and not isinstance(graph, ox.NamedNode):
        raise BadRequest("parameter graph: a graph is named by an IRI")
    graph_choice: ox.NamedNode | ox.DefaultGraph | None = graph
    if isinstance(graph, ox.NamedNode) and graph.value == default_graph_iri(base):
        graph_choice = ox.DefaultGraph()
    return FragmentRequest(
        pattern=Pattern(subject, predicate, obj, graph_choice),
        terms=terms,
        page=_page_number(request.args.get("page", "1")),
    )


def _page_number(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise BadRequest(f"parameter page: {raw!r} is not a page number (1 to {MAX_PAGE:,})")
    return int(raw)


def page_iri(base: str) -> str:
    """This page's IRI: the query string as the client sent it (a client matches the metadata
    against the URL it asked for), under the published base. Bytes an IRI cannot hold (a raw
    quote or space from a careless client) are percent-encoded; escapes stay as they were."""
    raw = quote(request.query_string.decode("latin-1"), safe=IRI_QUERY_SAFE)
    raw = STRAY_PERCENT.sub("%25", raw)  # a "%" that starts no escape is a literal percent
    return interface_iri(base) + (f"?{raw}" if raw else "")


def pick_format() -> tuple[Format, bool]:
    named = request.args.get("format")
    if named:
        fmt = formats.by_name(named, FRAGMENT_FORMATS)
        if fmt is None:
            known = ", ".join(f.name for f in FRAGMENT_FORMATS)
            raise BadRequest(f"parameter format: unknown format {named!r}; known: {known}")
        return fmt, False
    fmt = choose(request.headers.get("Accept"), FRAGMENT_FORMATS)
    if fmt is None:
        offered = ", ".join(f.media_type for f in FRAGMENT_FORMATS)
        raise NotAcceptable(
            f"none of Accept: {request.headers.get('Accept')!r} is available; offered: {offered}",
            headers={"Vary": "Accept"},
        )
    return fmt, True


# -- step 2: the page and its count ----------------------------------------------------------
def select(state: ServedBuild, parsed: FragmentRequest, *, iri: str) -> Fragment:
    settings = state.settings
    size = int(settings.fragments_page_size)
    quads = state.store.match(parsed.pattern, offset=(parsed.page - 1) * size, limit=size)
    count = state.store.count(parsed.pattern, scan_limit=int(settings.fragments_count_limit))
    if not count.exact:
        count = estimate(state, parsed.pattern, bound=count)
    return Fragment(iri, parsed, quads, count, size)


def estimate(state: ServedBuild, pattern: Pattern, *, bound: Count) -> Count:
    """A count past the scan limit, from the statistics the build wrote (VoID), else the bound.
    Both are estimates, as the TPF specification allows (hydra:totalItems says so)."""
    subject, predicate, obj, graph = (
        pattern.subject,
        pattern.predicate,
        pattern.object,
        pattern.graph,
    )
    union = state.info.triples
    if subject is None and obj is None:
        if predicate is None and isinstance(graph, ox.DefaultGraph):
            return Count(union, exact=True)
        if predicate is None and graph is None:
            return Count(union + state.info.quads, exact=True)
        if predicate is None and isinstance(graph, ox.NamedNode):
            return Count(state.graph_sizes.get(graph.value, 0), exact=True)
        if predicate is not None and isinstance(graph, ox.DefaultGraph):
            triples = _property_triples(state).get(predicate.value)
            if triples is not None:
                return Count(triples, exact=True)
    return Count(max(bound.value, 1), exact=False)


def _property_triples(state: ServedBuild) -> dict[str, int]:
    """void:triples per void:property in the build's VoID (distinct triples of the union)."""

    def read() -> dict[str, int]:
        quads = file_quads(state, "void.ttl")
        properties = {
            q.subject: q.object.value for q in quads if q.predicate.value == VOID + "property"
        }
        return {
            properties[q.subject]: int(q.object.value)
            for q in quads
            if q.predicate.value == VOID + "triples" and q.subject in properties
        }

    return state.memo("fragments:property_triples", read)


# -- step 3: the metadata (Hydra controls, counts, paging) ----------------------------------
def metadata(fragment: Fragment, *, base: str) -> list[ox.Triple]:
    def n(iri: str) -> ox.NamedNode:
        return ox.NamedNode(iri)

    page = n(fragment.page_iri)
    dataset = n(dataset_iri(base))
    form = ox.BlankNode("search")
    count = ox.Literal(str(fragment.count.value), datatype=n(XSD_INTEGER))
    size = ox.Literal(str(fragment.page_size), datatype=n(XSD_INTEGER))
    triples = [
        # The count first: clients take the first void:triples / hydra:totalItems they read.
        ox.Triple(page, n(VOID + "triples"), count),
        ox.Triple(page, n(HYDRA + "totalItems"), count),
        ox.Triple(page, n(RDF + "type"), n(HYDRA + "PartialCollectionView")),
        ox.Triple(page, n(HYDRA + "itemsPerPage"), size),
        ox.Triple(page, n(HYDRA + "first"), n(fragment.link(base, 1))),
        ox.Triple(page, n(DCT + "source"), dataset),
    ]
    if fragment.request.page > 1:
        triples.append(
            ox.Triple(
                page, n(HYDRA + "previous"), n(fragment.link(base, fragment.request.page - 1))
            )
        )
    if fragment.has_next:
        triples.append(
            ox.Triple(page, n(HYDRA + "next"), n(fragment.link(base, fragment.request.page + 1)))
        )
    if not fragment.count.exact:
        note = "an estimate: more matches than the server counts exactly (fragments_count_limit)"
        triples.append(ox.Triple(page, n(STANDARD_PREFIXES["rdfs"] + "comment"), ox.Literal(note)))
    triples += [
        ox.Triple(dataset, n(VOID + "subset"), page),
        ox.Triple(dataset, n(RDF + "type"), n(VOID + "Dataset")),
        ox.Triple(dataset, n(RDF + "type"), n(HYDRA + "Collection")),
        ox.Triple(dataset, n(SD + "defaultGraph"), n(default_graph_iri(base))),
        ox.Triple(dataset, n(VOID + "sparqlEndpoint"), n(base + "sparql")),
        ox.Triple(dataset, n(HYDRA + "search"), form),
        ox.Triple(form, n(HYDRA + "template"), ox.Literal(search_template(base))),
        ox.Triple(form, n(HYDRA + "variableRepresentation"), n(HYDRA + "ExplicitRepresentation")),
    ]
    for variable, prop in (
        ("subject", RDF + "subject"),
        ("predicate", RDF + "predicate"),
        ("object", RDF + "object"),
        ("graph", SD + "graph"),
    ):
        mapping = ox.BlankNode(f"map-{variable}")
        triples += [
            ox.Triple(form, n(HYDRA + "mapping"), mapping),
            ox.Triple(mapping, n(HYDRA + "variable"), ox.Literal(variable)),
            ox.Triple(mapping, n(HYDRA + "property"), n(prop)),
        ]
    return triples


def statements(fragment: Fragment, *, base: str, fmt: Format) -> list[ox.Triple | ox.Quad]:
    """Data and metadata for one format: quads in a dataset format, triples otherwise."""
    meta = metadata(fragment, base=base)
    if not fmt.supports_datasets:
        data = [ox.Triple(q.subject, q.predicate, q.object) for q in fragment.quads]
        return [*data, *meta]
    graph = ox.NamedNode(fragment.page_iri + "#metadata")
    topics = [
        ox.Triple(graph, ox.NamedNode(FOAF + "primaryTopic"), ox.NamedNode(fragment.page_iri)),
        ox.Triple(graph, ox.NamedNode(FOAF + "primaryTopic"), ox.NamedNode(dataset_iri(base))),
    ]
    return [
        *fragment.quads,
        *(ox.Quad(t.subject, t.predicate, t.object, graph) for t in [*meta, *topics]),
    ]


# -- step 4: render ---------------------------------------------------------------------------
@blueprint.route("/fragments", methods=["GET", "HEAD"])
def fragment() -> Response:
    state = served_build()
    base = state.base
    fmt, negotiated = pick_format()
    parsed = parse_request(base)
    iri = page_iri(base)

    def render() -> bytes:
        found = select(state, parsed, iri=iri)
        if fmt is formats.HTML:
            view = _html_view(found, base)
            return render_template("fragments.html", fragment=found, view=view).encode()
        return fmt.write(statements(found, base=base, fmt=fmt), prefixes=_prefixes(base))

    # A page is a function of the build, the exact request (its IRI is in the body) and the
    # format: rendered once per process and build, and validated by an ETag of the same.
    body = rendered_cache(state, "fragments_cache").get_or_make((iri, fmt.name), render)
    response = Response(body, content_type=fmt.content_type)
    if negotiated:
        response.headers["Vary"] = "Accept"
    response.headers["Link"] = f'<{iri}>; rel="self", <{dataset_iri(base)}>; rel="collection"'
    variant = hashlib.sha256(f"{iri}|{fmt.name}".encode()).hexdigest()[:16]
    return cached(response, etag_suffix=f"tpf-{variant}")


def _prefixes(base: str) -> dict[str, str]:
    return {**prefixes(base), "hydra": HYDRA, "void": VOID, "sd": SD}


@dataclass(frozen=True)
class Cell:
    text: str  # the term in the fragments syntax ("" for the default graph)
    iri: str | None  # an IRI, to link
    fragment: str  # the fragment of quads with this term as subject (or in this graph)


@dataclass(frozen=True)
class HtmlView:
    fields: dict[str, str]  # the form's values, as the client wrote them
    rows: list[tuple[Cell, Cell, Cell, Cell]]  # subject, predicate, object, graph
    pages: dict[str, str]  # first/previous/next -> link
    default_graph: str


def _html_view(found: Fragment, base: str) -> HtmlView:
    def cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.DefaultGraph, role: str) -> Cell:
        if isinstance(term, ox.DefaultGraph):
            return Cell("", None, "")
        position = {"s": "subject", "p": "predicate", "o": "object", "g": "graph"}[role]
        return Cell(
            format_term(term),
            term.value if isinstance(term, ox.NamedNode) else None,
            interface_iri(base) + fragment_query({position: term}),
        )

    pages = {"first": found.link(base, 1)}
    if found.request.page > 1:
        pages["previous"] = found.link(base, found.request.page - 1)
    if found.has_next:
        pages["next"] = found.link(base, found.request.page + 1)
    return HtmlView(
        fields={name: request.args.get(name, "") for name in POSITIONS},
        rows=[
            (
                cell(q.subject, "s"),
                cell(q.predicate, "p"),
                cell(q.object, "o"),
                cell(q.graph_name, "g"),
            )
            for q in found.quads
        ],
        pages=pages,
        default_graph=default_graph_iri(base),
    )
