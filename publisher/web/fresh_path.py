"""The cheapest path for a fresh SPARQL GET: the query's answer without Flask (issue 10).

A GET of /sparql with a query is the endpoint's most common request and the one a cache
cannot help when its constants are new. Flask's request context, routing, the Response object
and six after-request hooks cost about as much CPU as the query itself on a point lookup
(see README, "Speed of the web tier"). Here the same steps run on the WSGI environ: the
protocol's reading (`sparql.protocol.parse_request`), the checks and negotiation
(`web.sparql.plan_query`, shared with the endpoint), the result cache and the worker
(`web.sparql.answer_of`), and the answer goes out with the headers the app would have sent
(`answer_headers`: the same list, built without werkzeug's header objects). The worker's
bytes are the body as they are: nothing is parsed in this process.

Everything that is not the plain case goes to the app, which answers it as always: other
methods, paths and preconditions (If-None-Match included: the app answers its 304 without a
lookup), a request without a query, any refusal before the query runs (the app finds the
same refusal and renders it), the HTML query page. When the query has run and its outcome is
an error or a truncated answer, the outcome is handed to the app with the request
(`web.sparql.HandedOver`), which renders it: a query is never run twice.

It sits inside the replay (``web.fast_path``), which keeps this path's answers exactly as it
keeps the app's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import http_date, quote_etag

from publisher.formats import HTML, Format
from publisher.sparql.job import QueryAnswer
from publisher.sparql.protocol import ProtocolInput, parse_request
from publisher.web.compression import accepts_gzip_header, compressible_type, gzipped
from publisher.web.fast_path import APP_ONLY
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
# web/app.py `cors`, after the endpoint's own Access-Control-Expose-Headers.
CORS = (("Access-Control-Allow-Origin", "*"),)


def fresh_queries(app: WSGIApp, switcher: BuildSwitcher) -> WSGIApp:
    """`app` behind the fresh path for plain SPARQL GETs (see the module's docstring)."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if (
            environ.get("REQUEST_METHOD") != "GET"
            or environ.get("PATH_INFO") not in PATHS
            or "HTTP_IF_NONE_MATCH" in environ
            or any(name in environ for name in APP_ONLY)
        ):
            return app(environ, start_response)
        state = switcher.get()
        try:
            # PEP 3333: the query string is latin-1 text of the request's bytes (as werkzeug).
            query_string = environ.get("QUERY_STRING", "").encode("latin-1")
            sparql = parse_request(
                ProtocolInput(method="GET", query_string=query_string), state.settings
            )
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
            answer, from_cache = answer_of(state, planned.job, planned.limits, planned.key)
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
        etag = answer_etag(state, planned.key, planned.fmt)
        start_response(
            "200 OK",
            answer_headers(
                state, planned.fmt, answer, body=body, etag=etag, timing=timing, gzip=gzip
            ),
        )
        return [body]

    return application


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
    etag: str,
    timing: str,
    gzip: bool,
) -> list[tuple[str, str]]:
    """The headers the app sends with a complete answer to a GET, in its order: the
    endpoint's, `_validators`, the app's after-request hooks (security, CORS, compression)."""
    compressible = compressible_type(fmt.media_type)
    headers = [
        ("Content-Type", fmt.content_type),
        ("Content-Length", str(len(body))),
        ("Vary", "Accept, Accept-Encoding" if compressible else "Accept"),
        ("X-SPARQL-Rows", str(answer.rows)),
        ("Server-Timing", timing),
        ("ETag", quote_etag(etag, weak=True)),
        *_build_headers(state),
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
