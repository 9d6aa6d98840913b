"""The cheapest path for a fresh SPARQL GET: the query's answer without Flask (issue 10).

A GET of /sparql with a query is the endpoint's most common request and the one a cache
cannot help when its constants are new; a POST of a form or of the query itself (what SPARQL
client libraries send) is the same request with the query in the body, and goes the same way
when its body has a length within the limit: it is read here whole and put back for the app,
should the app answer instead. Flask's request context, routing, the Response object
and six after-request hooks cost about as much CPU as the query itself on a point lookup
(see README, "Speed of the web tier"). Here the same steps run on the WSGI environ: the
protocol's reading (`sparql.protocol.parse_request`), the checks and negotiation
(`web.sparql.plan_query`, shared with the endpoint), the result cache and the worker
(`web.sparql.answer_of`), and the answer goes out with the headers the app would have sent
(`answer_headers`: the same list, built without werkzeug's header objects). The worker's
bytes are the body as they are: nothing is parsed in this process.

Everything that is not the plain case goes to the app, which answers it as always: other
methods, paths and preconditions, chunked or oversized POST bodies (If-None-Match included: the app answers its 304 without a
lookup), a request without a query, any refusal before the query runs (the app finds the
same refusal and renders it), the HTML query page. When the query has run and its outcome is
an error or a truncated answer, the outcome is handed to the app with the request
(`web.sparql.HandedOver`), which renders it: a query is never run twice.

It sits inside the replay (``web.fast_path``), which keeps this path's answers exactly as it
keeps the app's.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import http_date, parse_options_header, quote_etag

from publisher.formats import HTML, Format
from publisher.settings import Settings
from publisher.sparql.job import QueryAnswer
from publisher.sparql.protocol import (
    DIRECT_QUERY,
    FORM,
    ProtocolInput,
    parse_request,
    read_at_most,
)
from publisher.web.compression import accepts_gzip_header, compressible_type, gzipped
from publisher.web.fast_path import APP_ONLY, MAX_BODY
from publisher.web.http import SECURITY_HEADERS
from publisher.web.sparql import (
    EXPOSED_HEADERS,
    HANDED_OVER,
    HandedOver,
    answer_etag,
    answer_of,
    plan_query,
)
from publisher.web.state import BuildSwitcher, ServedBuild

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

PATHS = frozenset({"/sparql", "/sparql/"})
# POST bodies read here: the query's two types (any other is the app's refusal).
POSTED_TYPES = frozenset({FORM, DIRECT_QUERY})
# web/app.py `cors`, after the endpoint's own Access-Control-Expose-Headers.
CORS = (("Access-Control-Allow-Origin", "*"),)


def fresh_queries(app: WSGIApp, switcher: BuildSwitcher) -> WSGIApp:
    """`app` behind the fresh path for plain SPARQL GETs (see the module's docstring)."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if (
            method not in ("GET", "POST")
            or environ.get("PATH_INFO") not in PATHS
            or "HTTP_IF_NONE_MATCH" in environ
            or any(name in environ for name in APP_ONLY)
        ):
            return app(environ, start_response)
        state = switcher.get()
        try:
            # PEP 3333: the query string is latin-1 text of the request's bytes (as werkzeug).
            query_string = environ.get("QUERY_STRING", "").encode("latin-1")
            if method == "GET":
                protocol = ProtocolInput(method="GET", query_string=query_string)
            else:
                posted = _posted(environ, query_string, state.settings)
                if posted is None:
                    return app(environ, start_response)
                protocol = posted
            sparql = parse_request(protocol, state.settings)
            if sparql.query is None:
                return app(environ, start_response)  # the service description or the page
            planned = plan_query(state, sparql, accept=environ.get("HTTP_ACCEPT"))
        except Exception:
            # Every refusal before the query runs (bad encoding, too long, refused shape,
            # nothing acceptable) is cheap and deterministic: the app meets the same one and
            # renders it in the error format of the request.
            return app(environ, start_response)
        if planned.fmt is HTML:
            return app(environ, start_response)  # the query page renders the answer
        started = time.perf_counter()
        try:
            answer, from_cache = answer_of(
                state, planned.job, planned.limits, planned.key,
                replayed_up_to=_replayed_up_to(state) if method == "GET" else 0,
            )  # fmt: skip
        except Exception as error:  # the app renders it (HTTP status, format, headers)
            environ[HANDED_OVER] = HandedOver(planned.key, error=error)
            return app(environ, start_response)
        elapsed_ms = (time.perf_counter() - started) * 1000
        if answer.truncated:  # its truncation headers and no-cache are the app's
            environ[HANDED_OVER] = HandedOver(
                planned.key, answer=answer, from_cache=from_cache, elapsed_ms=elapsed_ms
            )
            return app(environ, start_response)
        body = answer.body
        gzip = _gzip_wanted(state, planned.fmt, body, environ.get("HTTP_ACCEPT_ENCODING"))
        if gzip:
            body = gzipped(body)
        timing = f"{'cache' if from_cache else 'query'};dur={elapsed_ms:.1f}"
        # The app validates GETs only: a POST answer carries no ETag (nor the build's headers).
        etag = answer_etag(state, planned.key, planned.fmt) if method == "GET" else None
        start_response(
            "200 OK",
            answer_headers(
                state, planned.fmt, answer, body=body, etag=etag, timing=timing, gzip=gzip
            ),
        )
        return [body]

    return application


def _replayed_up_to(state: ServedBuild) -> int:
    """The largest answer to a GET that the replay around this path keeps (0: it keeps none):
    the result cache need not keep it as well. A random-constant lookup asked a second time
    wrote two entries behind the cache's lock, and writes cost more than the lookup."""
    return MAX_BODY if int(state.settings.response_cache_max_bytes) > 0 else 0


def _posted(
    environ: dict[str, Any], query_string: bytes, settings: Settings
) -> ProtocolInput | None:
    """A POST whose body is read here: a query type and a Content-Length within
    sparql_max_body_bytes (a chunked, longer or short body is the app's to read and refuse).
    The body is put back as the request's input, so that the app reads the same bytes when it
    answers instead."""
    length = environ.get("CONTENT_LENGTH", "")
    if (
        not length.isdigit()
        or int(length) > int(settings.sparql_max_body_bytes)
        or "HTTP_TRANSFER_ENCODING" in environ
    ):
        return None
    mimetype, options = parse_options_header(environ.get("CONTENT_TYPE", ""))
    mimetype = mimetype.lower()  # as werkzeug's request.mimetype
    if mimetype not in POSTED_TYPES:
        return None
    body = read_at_most(environ["wsgi.input"], int(length))
    environ["wsgi.input"] = io.BytesIO(body)
    if len(body) != int(length):
        return None  # the client stopped sending: the app finds out as it always does
    return ProtocolInput(
        method="POST",
        query_string=query_string,
        mimetype=mimetype,
        charset=options.get("charset"),
        content_length=len(body),
        read_body=lambda size: body[:size],
    )


def _gzip_wanted(state: ServedBuild, fmt: Format, body: bytes, accept_encoding: str | None) -> bool:
    """web/compression.py `compress`, for a 200 of this format."""
    minimum = int(state.settings.compress_min_bytes)
    return (
        compressible_type(fmt.media_type)
        and minimum > 0
        and len(body) >= minimum
        and accepts_gzip_header(accept_encoding)
    )


def answer_headers(
    state: ServedBuild,
    fmt: Format,
    answer: QueryAnswer,
    *,
    body: bytes,
    etag: str | None,
    timing: str,
    gzip: bool,
) -> list[tuple[str, str]]:
    """The headers the app sends with a complete answer, in its order: the endpoint's,
    `_validators` (a GET's: `etag` given), the app's after-request hooks (security, CORS,
    compression)."""
    compressible = compressible_type(fmt.media_type)
    headers = [
        ("Content-Type", fmt.content_type),
        ("Content-Length", str(len(body))),
        ("Vary", "Accept, Accept-Encoding" if compressible else "Accept"),
        ("X-SPARQL-Rows", str(answer.rows)),
        ("Server-Timing", timing),
        *(
            (("ETag", quote_etag(etag, weak=True)), *_build_headers(state))
            if etag is not None
            else ()
        ),
        ("Access-Control-Expose-Headers", EXPOSED_HEADERS),
        *SECURITY_HEADERS,
        *CORS,
    ]
    if gzip:
        headers.append(("Content-Encoding", "gzip"))
    return headers


def _build_headers(state: ServedBuild) -> tuple[tuple[str, str], ...]:
    """Last-Modified and Cache-Control, the same for every answer of a build."""

    def make() -> tuple[tuple[str, str], ...]:
        max_age = int(state.settings.sparql_cache_max_age_s)
        return (
            ("Last-Modified", http_date(state.last_modified)),
            ("Cache-Control", f"public, max-age={max_age}"),
        )

    return state.memo("fresh_path:build_headers", make)
