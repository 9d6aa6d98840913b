"""publisher.sparql.protocol on its own: a ProtocolInput in, a QueryRequest or a domain error out.

No web framework: the input is what any server can describe. The end-to-end conformance
(the W3C manifest against a real server) is in test_sparql_w3c_protocol.py.
"""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest

from publisher.settings import load_settings
from publisher.sparql.errors import (
    InvalidQueryRequest,
    QueryRefused,
    QueryTooLarge,
    UnsupportedQueryRequest,
)
from publisher.sparql.job import DatasetKind
from publisher.sparql.protocol import (
    BodyTooLarge,
    ProtocolInput,
    QueryRequest,
    parse_request,
    read_at_most,
)

SETTINGS = load_settings({"sparql_max_body_bytes": 100, "sparql_max_query_length": 50})
ASK = "ASK { ?s ?p ?o }"


def get(query_string: str) -> ProtocolInput:
    return ProtocolInput(method="GET", query_string=query_string.encode())


def post(body: bytes, mimetype: str, *, charset: str | None = None, length: bool = True):
    stream = io.BytesIO(body)
    return ProtocolInput(
        method="POST",
        query_string=b"",
        mimetype=mimetype,
        charset=charset,
        content_length=len(body) if length else None,
        read_body=lambda size: read_at_most(stream, size),
    )


def test_get_reads_query_graphs_and_format_overrides() -> None:
    request = parse_request(
        get(
            f"query={quote(ASK)}&default-graph-uri=http://g/a&named-graph-uri=http://g/b"
            "&format=json&output=xml,csv"
        ),
        SETTINGS,
    )
    assert request == QueryRequest(
        query=ASK,
        default_graphs=("http://g/a",),
        named_graphs=("http://g/b",),
        format_names=("json", "xml,csv"),
    )
    assert request.protocol_dataset


def test_get_without_a_query_is_a_service_description_request() -> None:
    assert parse_request(get(""), SETTINGS) == QueryRequest(query=None)


def test_parameters_are_utf8_percent_decoded() -> None:
    request = parse_request(get("query=" + quote('ASK { ?s ?p "Xocalı" }')), SETTINGS)
    assert request.query == 'ASK { ?s ?p "Xocalı" }'
    with pytest.raises(InvalidQueryRequest, match="not UTF-8"):
        parse_request(get("query=%FF"), SETTINGS)


def test_post_form_and_direct() -> None:
    form = post(b"query=" + quote(ASK).encode(), "application/x-www-form-urlencoded")
    assert parse_request(form, SETTINGS).query == ASK
    direct = post(ASK.encode(), "application/sparql-query", charset="UTF-8")
    assert parse_request(direct, SETTINGS).query == ASK


def test_post_refusals() -> None:
    with pytest.raises(QueryRefused, match="read-only"):
        parse_request(post(b"CLEAR ALL", "application/sparql-update"), SETTINGS)
    with pytest.raises(UnsupportedQueryRequest, match="got text/plain"):
        parse_request(post(ASK.encode(), "text/plain"), SETTINGS)
    with pytest.raises(InvalidQueryRequest, match="charset=latin-1"):
        parse_request(post(ASK.encode(), "application/sparql-query", charset="latin-1"), SETTINGS)
    with pytest.raises(QueryRefused, match="'update' operation"):
        parse_request(get("update=CLEAR%20ALL"), SETTINGS)


def test_limits_name_their_setting() -> None:
    with pytest.raises(QueryTooLarge, match="sparql_max_body_bytes") as declared:
        parse_request(post(b"x" * 101, "application/sparql-query"), SETTINGS)
    assert declared.value.setting == "sparql_max_body_bytes"
    # A body without Content-Length is read one byte past the limit, never cut.
    with pytest.raises(QueryTooLarge, match="sparql_max_body_bytes"):
        parse_request(post(b"x" * 101, "application/sparql-query", length=False), SETTINGS)
    exactly = b"query=ASK%7B%7D&pad="
    exactly += b"x" * (100 - len(exactly))
    form = "application/x-www-form-urlencoded"
    assert parse_request(post(exactly, form, length=False), SETTINGS).query == "ASK{}"
    with pytest.raises(QueryTooLarge) as long_query:
        parse_request(get("query=" + "x" * 51), SETTINGS)
    assert long_query.value.setting == "sparql_max_query_length"


def test_a_transport_that_refuses_to_read_further_is_too_large() -> None:
    def refuse(_size: int) -> bytes:
        raise BodyTooLarge

    chunked = ProtocolInput(
        method="POST", query_string=b"", mimetype="application/sparql-query", read_body=refuse
    )
    with pytest.raises(QueryTooLarge, match="sparql_max_body_bytes"):
        parse_request(chunked, SETTINGS)


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("query=ASK%7B%7D&query=ASK%7B%7D", "2 'query' parameters"),
        ("query=%20%20", "the query is empty"),
        ("query=ASK%7B%7D&default-graph-uri=relative", "not an absolute IRI"),
    ],
)
def test_bad_parameters(query_string: str, message: str) -> None:
    with pytest.raises(InvalidQueryRequest, match=message):
        parse_request(get(query_string), SETTINGS)


def test_the_dataset_a_request_asks_for() -> None:
    plain = parse_request(get("query=ASK%7B%7D"), SETTINGS)
    assert plain.dataset(has_dataset_clause=False).kind is DatasetKind.UNION
    assert plain.dataset(has_dataset_clause=True).kind is DatasetKind.QUERY
    protocol = parse_request(get("query=ASK%7B%7D&named-graph-uri=http://g/b"), SETTINGS)
    dataset = protocol.dataset(has_dataset_clause=True)  # the protocol's replaces FROM
    assert (dataset.kind, dataset.default_graphs, dataset.named_graphs) == (
        DatasetKind.PROTOCOL,
        (),
        ("http://g/b",),
    )
