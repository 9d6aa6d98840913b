"""gzip for every compressible response, in one place (an after_request hook).

Compressed when the client accepts gzip (q > 0), the body is at least `compress_min_bytes`,
the media type is textual, and the response is not a file passed through (dumps are already
gzip files, and their Range and checksum semantics need the bytes as stored). Every response
that could have been compressed says ``Vary: Accept-Encoding`` so that caches keep both.
The ETag of a compressible response is weak (nginx does the same when it gzips): the
compressed bytes differ, the meaning does not, and If-None-Match compares weakly, so a client
revalidating either form gets its 304.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request
from werkzeug.datastructures import Accept
from werkzeug.http import parse_accept_header

from publisher.web.state import served_build

COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/ld+json",
    "application/xml",
    "application/rdf+xml",
    "application/n-triples",
    "application/n-quads",
    "application/trig",
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "application/javascript",
)


def accepts_gzip() -> bool:
    return accepts_gzip_in(request.accept_encodings)


def accepts_gzip_header(accept_encoding: str | None) -> bool:
    """The same decision from the raw Accept-Encoding header (web/fresh_path.py)."""
    return accepts_gzip_in(parse_accept_header(accept_encoding))


def accepts_gzip_in(encodings: Accept) -> bool:
    return encodings["gzip"] > 0 or ("gzip" not in encodings and encodings["*"] > 0)


def gzipped(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)


def compressible(response: Response) -> bool:
    return compressible_type(response.mimetype or "")


def compressible_type(media_type: str) -> bool:
    media_type = media_type.lower()
    return media_type.startswith(COMPRESSIBLE) or media_type.endswith(("+json", "+xml"))


def compress(response: Response) -> Response:
    if (
        response.direct_passthrough
        or response.is_streamed
        or "Content-Encoding" in response.headers
        or not compressible(response)
    ):
        return response
    response.vary.add("Accept-Encoding")
    # Weak for every compressible response, compressed or not and 304s too, so the validator
    # a client holds always matches the one it is answered with.
    etag, weak = response.get_etag()
    if etag and not weak:
        response.set_etag(etag, weak=True)
    minimum = int(served_build().settings.compress_min_bytes)
    if minimum <= 0 or response.status_code not in (200, 203, 404, 406) or not accepts_gzip():
        return response
    body = response.get_data()
    if len(body) < minimum:
        return response
    response.set_data(gzipped(body))
    response.headers["Content-Encoding"] = "gzip"
    return response


def register(app: Flask) -> None:
    app.after_request(compress)
