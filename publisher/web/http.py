"""Caching headers shared by every response that comes from the build: ETag, Last-Modified."""

from __future__ import annotations

from flask import Response, request

from publisher.web.state import served_build

# The pages run only this server's scripts (search completion; the JSON-LD block is data,
# which CSP does not execute), load their stylesheets from this server, and submit their
# forms here; nothing may frame them.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; object-src 'none'; style-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# On every response (web/app.py security_headers; web/fresh_path.py writes them itself).
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
)


def cached(response: Response, *, etag_suffix: str = "") -> Response:
    """Stamp the build identity on a response and answer conditional requests with 304.

    The ETag varies with the representation (suffix) so that caches never mix variants.
    """
    state = served_build()
    response.set_etag(state.etag + (f"-{etag_suffix}" if etag_suffix else ""))
    response.last_modified = state.last_modified
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response.make_conditional(request)


def ignore_multiple_ranges() -> None:
    """A request for several ranges gets the whole representation (200).

    RFC 9110 §14.2 lets a server ignore Range; werkzeug would answer 416 to any multi-range
    request, which tells a client that its ranges cannot be satisfied when they can.
    """
    if "," in request.environ.get("HTTP_RANGE", ""):
        del request.environ["HTTP_RANGE"]


def enforce_preconditions(response: Response) -> Response:
    """If-Match, then If-Unmodified-Since (RFC 9110 §13.2.2), on GET and HEAD; a failed
    precondition is an empty 412 that still carries the current validators."""
    if request.method not in ("GET", "HEAD") or not (
        200 <= response.status_code < 300 or response.status_code in (304, 412)
    ):
        return response
    if request.if_match:
        etag, weak = response.get_etag()
        failed = not (
            request.if_match.star_tag
            or (etag is not None and not weak and request.if_match.contains(etag))
        )
    elif request.if_unmodified_since is not None:
        modified = response.last_modified
        failed = modified is None or modified > request.if_unmodified_since
    else:
        failed = response.status_code == 412
    if not failed:
        # werkzeug's make_conditional answers 412 to any If-Match on an unchanged resource,
        # even a matching one, and then skips If-None-Match: evaluate that here (§13.2.2 step 3).
        etag, _ = response.get_etag()
        if response.status_code in (200, 412) and request.if_match:
            if etag is not None and request.if_none_match.contains_weak(etag):
                response.status_code = 304
                response.close()  # a file response (dumps) holds an open file
                response.set_data(b"")
            else:
                response.status_code = 200
        return response
    refused = Response(b"", 412)
    del refused.headers["Content-Type"]
    for name in ("ETag", "Last-Modified", "Vary", "Cache-Control"):
        if name in response.headers:
            refused.headers[name] = response.headers[name]
    response.close()  # a file response (dumps) holds an open file
    return refused
