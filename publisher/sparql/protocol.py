"""HTTP request -> SparqlRequest, following the SPARQL 1.1 Protocol; every protocol 4xx is here.

Accepted: GET ``?query=``, POST ``application/x-www-form-urlencoded`` (``query=`` in the body),
POST ``application/sparql-query`` (the body is the query), each with any number of
``default-graph-uri`` / ``named-graph-uri`` parameters (in the URL, or in the form body).
Parameters are decoded strictly as UTF-8: anything else is a 400, never a guess.
A body is read up to its limit (plus one byte, so that a chunked body with no Content-Length
that goes over it is refused with 413 rather than silently cut).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import unquote_to_bytes, urlsplit

from flask import Request
from werkzeug.exceptions import RequestEntityTooLarge

from publisher.settings import Settings, describe_setting
from publisher.sparql.safety import refuse_update
from publisher.web.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

FORM = "application/x-www-form-urlencoded"
DIRECT_QUERY = "application/sparql-query"
DIRECT_UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class SparqlRequest:
    query: str | None  # None: no query (GET -> service description or query page)
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    # Every ?format= / ?output= value, in order (clients may send several, each possibly a
    # comma-separated list); the web layer picks the first it knows.
    format_names: tuple[str, ...] = ()

    @property
    def protocol_dataset(self) -> bool:
        """default-graph-uri / named-graph-uri given: they replace FROM / FROM NAMED."""
        return bool(self.default_graphs or self.named_graphs)


def _decode_params(raw: bytes, *, where: str) -> list[tuple[str, str]]:
    """application/x-www-form-urlencoded -> (name, value) pairs, percent-escapes read as UTF-8.

    Not ``parse_qsl(bytes)``: it decodes escapes to text and re-encodes it as ASCII, so any
    non-ASCII value ("Xocalı") raised UnicodeEncodeError. Each part is unescaped to bytes
    here and those bytes are decoded strictly; raw non-ASCII bytes count as their UTF-8.
    """
    pairs: list[tuple[str, str]] = []
    try:
        for part in raw.split(b"&"):
            if not part:
                continue
            name, _, value = part.partition(b"=")
            pairs.append((_unescape(name), _unescape(value)))
    except UnicodeDecodeError as error:
        raise BadRequest(
            f"the {where} is not UTF-8 once percent-decoded ({error.reason} at byte "
            f"{error.start}); SPARQL requests must be UTF-8"
        ) from None
    return pairs


def _unescape(encoded: bytes) -> str:
    return unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8", errors="strict")


def _check_charset(request: Request) -> None:
    charset = request.mimetype_params.get("charset")
    if charset and charset.lower().replace("-", "") != "utf8":
        raise BadRequest(
            f"charset={charset} is not supported: the SPARQL Protocol requires UTF-8 bodies"
        )


def _body(request: Request, settings: Settings) -> bytes:
    limit = settings.sparql_max_body_bytes
    too_large = PayloadTooLarge(
        f"the request body is larger than {limit} bytes, the limit set by "
        f"{describe_setting('sparql_max_body_bytes')}",
        setting="sparql_max_body_bytes",
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    cached = getattr(request, "_sparql_body", None)
    if cached is not None:
        return cached
    # Chunked bodies have no Content-Length: read one byte more than the limit to tell a body
    # of exactly the limit from a longer one (which is refused, never cut).
    try:
        body = _read_at_most(request.stream, limit + 1)
    except RequestEntityTooLarge:
        raise too_large from None
    if len(body) > limit:
        raise too_large
    request._sparql_body = body  # type: ignore[attr-defined]
    return body


def _read_at_most(stream: BinaryIO, size: int) -> bytes:
    """Up to `size` bytes (a read may return less than asked before the end)."""
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(min(remaining, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _single(params: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise BadRequest(f"{len(values)} '{name}' parameters: a request carries exactly one")
    return values[0] if values else None


def _graph_iris(params: list[tuple[str, str]], name: str) -> tuple[str, ...]:
    iris = tuple(v for k, v in params if k == name)
    for iri in iris:
        if not urlsplit(iri).scheme or any(c in iri for c in ' <>"{}|^`\\'):
            raise BadRequest(f"{name}={iri!r} is not an absolute IRI")
    return iris


def parse_request(request: Request, settings: Settings) -> SparqlRequest:
    """Read the query, the protocol dataset and the format override; 4xx for anything else."""
    params = _decode_params(request.query_string, where="query string")
    if request.method == "POST":
        mimetype = request.mimetype
        if mimetype == DIRECT_UPDATE:
            raise refuse_update("POST application/sparql-update")
        if mimetype == FORM:
            _check_charset(request)
            params += _decode_params(_body(request, settings), where="form body")
        elif mimetype == DIRECT_QUERY:
            _check_charset(request)
            if _single(params, "query") is not None:
                raise BadRequest("a query in the body and another in the URL: send exactly one")
            try:
                params.append(("query", _body(request, settings).decode("utf-8")))
            except UnicodeDecodeError as error:
                raise BadRequest(
                    f"the query is not UTF-8 ({error.reason} at byte {error.start}); "
                    "the SPARQL Protocol requires UTF-8"
                ) from None
        else:
            raise UnsupportedMediaType(
                f"POST to /sparql needs Content-Type {FORM} (with query=...) or {DIRECT_QUERY} "
                f"(the query as the body); got {mimetype or 'none'}"
            )
    if any(k in ("update", "using-graph-uri", "using-named-graph-uri") for k, _ in params):
        raise refuse_update("the 'update' operation")
    query = _single(params, "query")
    if query is not None:
        limit = settings.sparql_max_query_length
        if len(query) > limit:
            raise PayloadTooLarge(
                f"the query has {len(query)} characters, more than {limit}, the limit set by "
                f"{describe_setting('sparql_max_query_length')}",
                setting="sparql_max_query_length",
            )
        if not query.strip():
            raise BadRequest("the query is empty")
    format_names = tuple(v for k, v in params if k in ("format", "output") and v.strip())
    return SparqlRequest(
        query=query,
        default_graphs=_graph_iris(params, "default-graph-uri"),
        named_graphs=_graph_iris(params, "named-graph-uri"),
        format_names=format_names,
    )
