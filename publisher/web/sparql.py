"""/sparql: the SPARQL 1.1 Protocol endpoint, its service description and the query page.

Thin: the request is described to ``sparql.protocol`` (which reads it), ``sparql.safety``
refuses what must not run, ``negotiation.choose`` picks the format from the format table, the
store runs and serializes the query (``Store.run``), and this module turns the answer into a
response. Domain errors on the way are rendered by ``web.errors``.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from publisher import formats
from publisher.dist import CQ_DIR
from publisher.formats import Format
from publisher.namespaces import prefixes
from publisher.negotiation import choose
from publisher.sparql.examples import load_examples
from publisher.sparql.job import QueryAnswer, QueryJob, QueryLimits
from publisher.sparql.protocol import (
    BodyTooLarge,
    ProtocolInput,
    QueryRequest,
    parse_request,
    read_at_most,
)
from publisher.sparql.safety import QueryShape, check_query
from publisher.sparql.serialize import BYTES, CUT_SETTINGS, ROWS, truncation_note
from publisher.sparql.service import description_version, service_description
from publisher.web.disk_cache import DiskCache, for_build
from publisher.web.errors import (
    BadRequest,
    HTTPProblem,
    MethodNotAllowed,
    NotAcceptable,
    render_problem,
)
from publisher.web.http import cached
from publisher.web.links import local_link
from publisher.web.state import ServedBuild, served_build

blueprint = Blueprint("sparql", __name__)

SOLUTION_OFFERS: tuple[Format, ...] = (*formats.RESULT_FORMATS, formats.HTML)
# A graph asked for as plain JSON (Accept: application/json) is answered with JSON-LD: the
# format table lists application/json as a JSON-LD alias (SELECT answers still prefer SPARQL
# JSON, whose entry is offered instead for solutions).
GRAPH_OFFERS: tuple[Format, ...] = (*formats.RDF_FORMATS, formats.HTML)
DESCRIPTION_OFFERS = GRAPH_OFFERS
# ?format= / ?output= values real clients send besides the table's names, extensions and
# media types (SPARQLWrapper: n3, json-ld, rdf+xml, turtle, xml, json, csv, tsv). On a
# CONSTRUCT / DESCRIBE, json and xml mean the RDF flavours; N3 is answered with Turtle (a
# subset of N3 that every N3 reader reads).
GRAPH_FORMAT_ALIASES: dict[str, Format] = {
    "json": formats.JSON_LD,
    "json-ld": formats.JSON_LD,
    "application/json": formats.JSON_LD,
    "application/x-json+ld": formats.JSON_LD,
    "xml": formats.RDF_XML,
    "rdf+xml": formats.RDF_XML,
    "rdf/xml": formats.RDF_XML,
    "n3": formats.TURTLE,
    "text/n3": formats.TURTLE,
    "text/rdf+n3": formats.TURTLE,
    "application/n3": formats.TURTLE,
    "application/turtle": formats.TURTLE,
    "ttl": formats.TURTLE,
    "n-triples": formats.N_TRIPLES,
    "n-quads": formats.N_QUADS,
}
SOLUTION_FORMAT_ALIASES: dict[str, Format] = {
    "sparql-results+json": formats.SPARQL_JSON,
    "sparql-results+xml": formats.SPARQL_XML,
    "tab-separated-values": formats.TSV,
}


# The query page runs its editor (YASGUI and editor.js, both served from /static): scripts from
# this server only; YASGUI and CodeMirror set style attributes, hence inline styles. Every other
# page keeps the app's script-free policy (web/app.py).
QUERY_PAGE_CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@blueprint.errorhandler(HTTPProblem)
def problem(error: HTTPProblem) -> Response:
    """The app-wide rendering: at /sparql it negotiates JSON (clients send */*) or HTML."""
    return render_problem(error)


@blueprint.after_request
def preflight(response: Response) -> Response:
    """CORS for web query editors (YASGUI...): they POST application/sparql-query."""
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


def format_override(values: tuple[str, ...], offered: tuple[Format, ...]) -> Format | None:
    """The first ?format= / ?output= value (or list member) naming an offered format.

    None when none does: the request is then negotiated by Accept, as if no override had been
    sent, rather than refused (SPARQLWrapper sends values meant for other endpoints).
    """
    graphs = any(f.family is formats.Family.RDF for f in offered)
    aliases = GRAPH_FORMAT_ALIASES if graphs else SOLUTION_FORMAT_ALIASES
    for value in values:
        for member in value.split(","):
            key = member.split(";", 1)[0].strip().lower()
            if not key:
                continue
            fmt = formats.by_name(key, offered) or aliases.get(key)
            if fmt is not None:
                return fmt
    return None


# `negotiate`'s default: read the Accept header of the Flask request.
FLASK_ACCEPT = object()


def negotiate(
    overrides: tuple[str, ...],
    offered: tuple[Format, ...],
    what: str,
    *,
    accept: str | object | None = FLASK_ACCEPT,
) -> Format:
    """Override, else Accept (``negotiation.choose``, as everywhere); 406 if nothing fits.
    `accept`: the request's Accept header, None when it sent none (default: the Flask
    request's)."""
    if accept is FLASK_ACCEPT:
        accept = request.headers.get("Accept")
    assert accept is None or isinstance(accept, str)
    fmt = format_override(overrides, offered) or choose(accept, offered)
    if fmt is None:
        raise NotAcceptable(
            f"none of the formats of {what} is acceptable; available: "
            + ", ".join(f.media_type for f in offered)
            + " (or ?format= with one of: "
            + ", ".join(f.name for f in offered)
            + ")"
        )
    return fmt


def _choose_format(shape: QueryShape, overrides: tuple[str, ...], accept: str | None) -> Format:
    offered = GRAPH_OFFERS if shape.is_graph else SOLUTION_OFFERS
    return negotiate(overrides, offered, f"{shape.form} results", accept=accept)


def protocol_input() -> ProtocolInput:
    """This Flask request as the SPARQL Protocol reads it."""

    def read_body(size: int) -> bytes:
        try:
            return read_at_most(request.stream, size)
        except RequestEntityTooLarge:  # over MAX_CONTENT_LENGTH while streaming
            raise BodyTooLarge from None

    return ProtocolInput(
        method=request.method,
        query_string=request.query_string,
        mimetype=request.mimetype,
        charset=request.mimetype_params.get("charset"),
        content_length=request.content_length,
        read_body=read_body,
    )


# What a web page's script may read of an answer (CORS).
EXPOSED_HEADERS = "X-SPARQL-Truncated, X-SPARQL-Rows, Warning, Server-Timing"

# Other methods are routed here too, so that they get the endpoint's JSON 405.
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


@blueprint.route("/sparql/", methods=METHODS)  # the W3C tests' address
@blueprint.route("/sparql", methods=METHODS)  # registered first: what url_for builds
def endpoint() -> Response:
    if request.method not in ("GET", "HEAD", "POST"):
        raise MethodNotAllowed(
            f"{request.method} is not a SPARQL Protocol operation here: query with GET or POST "
            "(the endpoint is read-only)",
            headers={"Allow": "GET, HEAD, POST, OPTIONS"},
        )
    state = served_build()
    sparql = parse_request(protocol_input(), state.settings)
    if sparql.query is None:
        if request.method == "POST":
            raise BadRequest("no query: send query=... (form) or the query as the body")
        return _describe_or_page(state, sparql)
    planned = plan_query(state, sparql, accept=request.headers.get("Accept"))
    shape, fmt, key = planned.shape, planned.fmt, planned.key
    etag = None
    if request.method in ("GET", "HEAD"):
        # Derived from the build and the request, not from the answer: a client revalidating
        # gets its 304 without the query being run again (or even looked up).
        etag = answer_etag(state, key, fmt)
        if request.if_none_match.contains_weak(etag):
            return _not_modified(state, etag)
    handed = request.environ.pop(HANDED_OVER, None)
    if isinstance(handed, HandedOver) and handed.key == key:
        # The fresh path (web/fresh_path.py) ran this very query already: its outcome is
        # rendered here (an error, a truncated answer), never run a second time.
        answer, from_cache, elapsed_ms = handed.outcome()
    else:
        started = time.perf_counter()
        answer, from_cache = answer_of(state, planned.job, planned.limits, key)
        elapsed_ms = (time.perf_counter() - started) * 1000
    if fmt is formats.HTML:
        response = Response(
            _page(state, query=sparql.query, shape=shape, answer=answer),
            content_type=formats.HTML.content_type,
        )
        response.headers["Content-Security-Policy"] = QUERY_PAGE_CSP
    else:
        response = Response(answer.body, content_type=fmt.content_type)
    response.headers["Vary"] = "Accept"
    response.headers["X-SPARQL-Rows"] = str(answer.rows)
    response.headers["Server-Timing"] = f"{'cache' if from_cache else 'query'};dur={elapsed_ms:.1f}"
    if answer.truncated:
        response.headers.update(_truncation_headers(state, answer.cut_by or ROWS))
        # Not kept by us, and not by a cache in front: the client should page instead.
        response.cache_control.no_cache = True
    elif etag is not None:
        _validators(response, state, etag)
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


@dataclass(frozen=True)
class PlannedQuery:
    """A checked query request: what runs, with which limits, answered in which format."""

    sparql: QueryRequest
    shape: QueryShape
    fmt: Format
    job: QueryJob
    limits: QueryLimits
    key: str  # the result cache's key (`request_key`)


def plan_query(state: ServedBuild, sparql: QueryRequest, *, accept: str | None) -> PlannedQuery:
    """Check the query and negotiate its format (domain errors and NotAcceptable raise);
    shared by the endpoint and the fresh path, so both run exactly the same checks."""
    assert sparql.query is not None
    settings = state.settings
    shape = check_query(
        sparql.query,
        base=state.base,
        graphs=state.graph_sizes,
        protocol_dataset=sparql.protocol_dataset,
        max_tokens=settings.sparql_max_query_tokens,
        max_depth=settings.sparql_max_nesting_depth,
        max_operators=settings.sparql_max_operators,
    )
    fmt = _choose_format(shape, sparql.format_names, accept)
    job = QueryJob(
        query=sparql.query,
        base=state.base,
        format_name=(formats.SPARQL_JSON if fmt is formats.HTML else fmt).name,
        dataset=sparql.dataset(has_dataset_clause=shape.has_dataset_clause),
        # Only graphs are written with prefixes; a solution's job crosses the pipe without them
        # (about 1 KB of JSON less to encode and decode per query).
        prefixes=_prefixes(state) if shape.is_graph else {},
    )
    limits = QueryLimits(
        rows=settings.sparql_max_rows,
        bytes=settings.sparql_max_response_bytes,
        time_ms=settings.sparql_time_limit_ms,
    )
    return PlannedQuery(sparql, shape, fmt, job, limits, request_key(job, limits))


def _prefixes(state: ServedBuild) -> dict[str, str]:
    return state.memo("sparql_prefixes", lambda: prefixes(state.base))


# What the fresh path hands the endpoint with the request (environ key): the outcome of the
# query it ran, for the endpoint to render.
HANDED_OVER = "publisher.sparql.handed_over"


@dataclass(frozen=True)
class HandedOver:
    key: str  # the request's result cache key: only this request's outcome is used
    answer: QueryAnswer | None = None
    from_cache: bool = False
    elapsed_ms: float = 0.0
    error: BaseException | None = None

    def outcome(self) -> tuple[QueryAnswer, bool, float]:
        if self.error is not None:
            raise self.error
        assert self.answer is not None
        return self.answer, self.from_cache, self.elapsed_ms


# --- the result cache and HTTP validators (issue 10) ----------------------------------------


def request_key(job: QueryJob, limits: QueryLimits) -> str:
    """The normalised request: query text, dataset, result format after negotiation, and the
    limits that shape an answer. One build's cache directory holds one base and prefixes."""
    return json.dumps(
        [
            job.format_name,
            job.query,
            job.dataset.kind.value,
            job.dataset.default_graphs,
            job.dataset.named_graphs,
            limits.rows,
            limits.bytes,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def answer_etag(state: ServedBuild, key: str, fmt: Format) -> str:
    digest = hashlib.sha256(f"{fmt.name}\n{key}".encode()).hexdigest()[:24]
    return f"{state.etag}-q{digest}"


def _result_cache(state: ServedBuild) -> DiskCache:
    # From the second time a process sees a request: a query asked once writes nothing.
    limit = int(state.settings.sparql_cache_max_bytes)
    return for_build(state, "sparql", max_bytes=limit, min_uses=2)


def answer_of(
    state: ServedBuild, job: QueryJob, limits: QueryLimits, key: str, *, replayed_up_to: int = 0
) -> tuple[QueryAnswer, bool]:
    """(answer, from the cache?): a complete answer is computed at most once per build while
    it fits the cache; errors raise before anything is kept, truncated answers are not kept.
    `replayed_up_to`: answers of at most so many bytes are not written here, because the
    replay (web/fast_path.py) keeps this very request's answer: one disk write, not two."""
    cache = _result_cache(state)
    kept = cache.get(key)
    if kept is not None:
        header, _, body = kept.partition(b"\n")
        return QueryAnswer.from_header(json.loads(header), body), True
    answer = state.store.run(job, limits)
    if not answer.truncated and cache.enabled and len(answer.body) > replayed_up_to:
        header = {"rows": answer.rows, "elapsed_ms": answer.elapsed_ms}
        cache.put(key, json.dumps(header).encode("ascii") + b"\n" + answer.body)
    return answer, False


def _validators(response: Response, state: ServedBuild, etag: str) -> None:
    # Weak like every compressible response (web/compression.py): the same meaning gzipped
    # or not, and If-None-Match compares weakly.
    response.set_etag(etag, weak=True)
    response.last_modified = state.last_modified
    response.cache_control.public = True
    response.cache_control.max_age = int(state.settings.sparql_cache_max_age_s)


def _not_modified(state: ServedBuild, etag: str) -> Response:
    response = Response(status=304)
    del response.headers["Content-Type"]
    response.headers["Vary"] = "Accept"
    _validators(response, state, etag)
    return response


def _truncation_headers(state: ServedBuild, cut_by: str) -> dict[str, str]:
    settings = state.settings
    note = truncation_note(
        settings.sparql_max_rows, cut_by=cut_by, max_bytes=settings.sparql_max_response_bytes
    )
    if cut_by == BYTES:
        limit = f"bytes={settings.sparql_max_response_bytes}"
    else:
        limit = f"rows={settings.sparql_max_rows}"
    return {
        "X-SPARQL-Truncated": f"true; {limit}; setting={CUT_SETTINGS[cut_by]}",
        "Warning": f'199 - "{note}"',
    }


def _describe_or_page(state: ServedBuild, sparql: QueryRequest) -> Response:
    fmt = negotiate(sparql.format_names, DESCRIPTION_OFFERS, "the service description")
    if fmt is formats.HTML:
        body = _page(state, query=None, shape=None, answer=None)
        response = Response(body, content_type=formats.HTML.content_type)
        response.headers["Content-Security-Policy"] = QUERY_PAGE_CSP
    else:
        triples = service_description(
            endpoint=state.base + "sparql", graphs=state.graph_sizes, settings=state.settings
        )
        body = fmt.write(triples, prefixes=prefixes(state.base), base=state.base)
        response = Response(body, content_type=fmt.content_type)
        response.headers["Vary"] = "Accept"
        # Stable for one build and settings (named nodes): validators and 304 (issue 7 #10).
        version = description_version(state.settings)
        return cached(response, etag_suffix=f"sd-{fmt.name}-{version}")
    response.headers["Vary"] = "Accept"
    return response


# --- the query page -------------------------------------------------------------------------


def default_query(base: str) -> str:
    wanted = ("rdf", "rdfs", "skos", "schema", "dct", "prov", "kg", "id", "graph")
    declared = prefixes(base)
    lines = [f"PREFIX {name}: <{declared[name]}>" for name in wanted]
    return "\n".join(
        [*lines, "", "SELECT ?thing ?label", "WHERE { ?thing rdfs:label ?label }", "LIMIT 25", ""]
    )


def _examples(state: ServedBuild) -> list[Any]:
    # The build copies the competency questions into dist/ (publisher/dataset/publish.py), so
    # serving never reads the working directory.
    directory = state.dist / CQ_DIR
    return state.memo("sparql_examples", lambda: load_examples(directory, base=state.base))


def _editor_config(state: ServedBuild, examples: list[Any]) -> dict[str, Any]:
    """What editor.js needs, as data in the page: no second request, nothing from elsewhere."""
    return {
        "endpoint": url_for("sparql.endpoint"),
        "base": state.base,
        "prefixes": prefixes(state.base),
        "examples": {example.slug: example.query for example in examples},
    }


def _cell(term: dict[str, str] | None) -> dict[str, str]:
    if term is None:
        return {"text": ""}
    if term["type"] == "uri":
        return {"text": term["value"], "href": local_link(term["value"])}
    if term["type"] == "bnode":
        return {"text": "_:" + term["value"]}
    note = ""
    if "xml:lang" in term:
        note = "@" + term["xml:lang"]
    elif "datatype" in term:
        note = term["datatype"].rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return {"text": term["value"], "note": note}


def _page(
    state: ServedBuild,
    *,
    query: str | None,
    shape: QueryShape | None,
    answer: QueryAnswer | None,
) -> str:
    results: dict[str, Any] | None = None
    links: list[tuple[str, str]] = []
    if query is not None and answer is not None and shape is not None:
        data = json.loads(answer.body)
        if "boolean" in data:
            results = {"boolean": data["boolean"]}
        else:
            names = data["head"]["vars"]
            rows = [[_cell(b.get(n)) for n in names] for b in data["results"]["bindings"]]
            results = {"vars": names, "rows": rows}
        results["rows_count"] = answer.rows
        results["truncated"] = answer.truncated
        results["elapsed_ms"] = answer.elapsed_ms
        offered = formats.RDF_FORMATS if shape.is_graph else formats.RESULT_FORMATS
        links = [(f.label, url_for("sparql.endpoint", query=query, format=f.name)) for f in offered]
    examples = _examples(state)
    return render_template(
        "sparql.html",
        query=query if query is not None else default_query(state.base),
        examples=examples,
        editor_config=_editor_config(state, examples),
        results=results,
        format_links=links,
        max_rows=state.settings.sparql_max_rows,
        time_limit_ms=state.settings.sparql_time_limit_ms,
    )
