"""A SPARQL 1.1 Protocol request -> QueryRequest; every protocol refusal is raised here.

Accepted: GET ``?query=``, POST ``application/x-www-form-urlencoded`` (``query=`` in the body),
POST ``application/sparql-query`` (the body is the query), each with any number of
``default-graph-uri`` / ``named-graph-uri`` parameters (in the URL, or in the form body).
Parameters are decoded strictly as UTF-8: anything else is refused, never a guess.
A body is read up to its limit (plus one byte, so that a chunked body with no Content-Length
that goes over it is refused as too large rather than silently cut).

No web framework here: the web adapter describes the request as a `ProtocolInput`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import unquote_to_bytes, urlsplit

from publisher.settings import Settings, describe_setting
from publisher.sparql.errors import InvalidQueryRequest, QueryTooLarge, UnsupportedQueryRequest
from publisher.sparql.job import QueryDataset
from publisher.sparql.safety import refuse_update

FORM = "application/x-www-form-urlencoded"
DIRECT_QUERY = "application/sparql-query"
DIRECT_UPDATE = "application/sparql-update"


class BodyTooLarge(Exception):
    """Raised by a `ProtocolInput.read_body` whose transport refused to read past its own cap."""


@dataclass(frozen=True)
class ProtocolInput:
    """What the protocol needs from an HTTP request, whatever the server."""

    method: str  # GET, HEAD or POST
    query_string: bytes  # raw, still percent-encoded
    mimetype: str = ""  # the Content-Type without parameters, lowercase
    charset: str | None = None  # the Content-Type's charset parameter
    content_length: int | None = None  # None: not sent (a chunked body)
    # Reads the body: at most n bytes (fewer only at its end); may raise BodyTooLarge.
    read_body: Callable[[int], bytes] = lambda _size: b""


@dataclass(frozen=True)
class QueryRequest:
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

    def dataset(self, *, has_dataset_clause: bool) -> QueryDataset:
        """The graphs the query sees: the protocol's, else its own FROM, else the union."""
        if self.protocol_dataset:
            return QueryDataset.protocol(self.default_graphs, self.named_graphs)
        if has_dataset_clause:
            return QueryDataset.from_query()
        return QueryDataset.union()


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
        raise InvalidQueryRequest(
            f"the {where} is not UTF-8 once percent-decoded ({error.reason} at byte "
            f"{error.start}); SPARQL requests must be UTF-8"
        ) from None
    return pairs


def _unescape(encoded: bytes) -> str:
    return unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8", errors="strict")


def _check_charset(charset: str | None) -> None:
    if charset and charset.lower().replace("-", "") != "utf8":
        raise InvalidQueryRequest(
            f"charset={charset} is not supported: the SPARQL Protocol requires UTF-8 bodies"
        )


def _body(request: ProtocolInput, settings: Settings) -> bytes:
    limit = settings.sparql_max_body_bytes
    too_large = QueryTooLarge(
        f"the request body is larger than {limit} bytes, the limit set by "
        f"{describe_setting('sparql_max_body_bytes')}",
        setting="sparql_max_body_bytes",
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    # Chunked bodies have no Content-Length: read one byte more than the limit to tell a body
    # of exactly the limit from a longer one (which is refused, never cut).
    try:
        body = request.read_body(limit + 1)
    except BodyTooLarge:
        raise too_large from None
    if len(body) > limit:
        raise too_large
    return body


def read_at_most(stream: BinaryIO, size: int) -> bytes:
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
        raise InvalidQueryRequest(
            f"{len(values)} '{name}' parameters: a request carries exactly one"
        )
    return values[0] if values else None


def _graph_iris(params: list[tuple[str, str]], name: str) -> tuple[str, ...]:
    iris = tuple(v for k, v in params if k == name)
    for iri in iris:
        if not urlsplit(iri).scheme or any(c in iri for c in ' <>"{}|^`\\'):
            raise InvalidQueryRequest(f"{name}={iri!r} is not an absolute IRI")
    return iris


def parse_request(request: ProtocolInput, settings: Settings) -> QueryRequest:
    """Read the query, the protocol dataset and the format override; refuse anything else."""
    params = _decode_params(request.query_string, where="query string")
    if request.method == "POST":
        mimetype = request.mimetype
        if mimetype == DIRECT_UPDATE:
            raise refuse_update("POST application/sparql-update")
        if mimetype == FORM:
            _check_charset(request.charset)
            params += _decode_params(_body(request, settings), where="form body")
        elif mimetype == DIRECT_QUERY:
            _check_charset(request.charset)
            if _single(params, "query") is not None:
                raise InvalidQueryRequest(
                    "a query in the body and another in the URL: send exactly one"
                )
            try:
                params.append(("query", _body(request, settings).decode("utf-8")))
            except UnicodeDecodeError as error:
                raise InvalidQueryRequest(
                    f"the query is not UTF-8 ({error.reason} at byte {error.start}); "
                    "the SPARQL Protocol requires UTF-8"
                ) from None
        else:
            raise UnsupportedQueryRequest(
                f"POST to /sparql needs Content-Type {FORM} (with query=...) or {DIRECT_QUERY} "
                f"(the query as the body); got {mimetype or 'none'}"
            )
    if any(k in ("update", "using-graph-uri", "using-named-graph-uri") for k, _ in params):
        raise refuse_update("the 'update' operation")
    query = _single(params, "query")
    if query is not None:
        limit = settings.sparql_max_query_length
        if len(query) > limit:
            raise QueryTooLarge(
                f"the query has {len(query)} characters, more than {limit}, the limit set by "
                f"{describe_setting('sparql_max_query_length')}",
                setting="sparql_max_query_length",
            )
        if not query.strip():
            raise InvalidQueryRequest("the query is empty")
    format_names = tuple(v for k, v in params if k in ("format", "output") and v.strip())
    return QueryRequest(
        query=query,
        default_graphs=_graph_iris(params, "default-graph-uri"),
        named_graphs=_graph_iris(params, "named-graph-uri"),
        format_names=format_names,
    )
