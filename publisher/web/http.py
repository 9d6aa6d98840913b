"""Caching headers shared by every response that comes from the build: ETag, Last-Modified."""

from __future__ import annotations

from flask import Response, request

from publisher.web.state import published


def cached(response: Response, *, etag_suffix: str = "") -> Response:
    """Stamp the build identity on a response and answer conditional requests with 304.

    The ETag varies with the representation (suffix) so that caches never mix variants.
    """
    state = published()
    response.set_etag(state.etag + (f"-{etag_suffix}" if etag_suffix else ""))
    response.last_modified = state.last_modified
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response.make_conditional(request)
