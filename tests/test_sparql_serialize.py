"""publisher.sparql.serialize: solutions written by pyoxigraph into a bounded sink give the
engine's own answer in every results format, and cut at the row and byte limits exactly as
promised (whole rows, the first ones, the cut said), even when the result is far larger than
the limit (the writer is stopped, not read to the end)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from publisher import formats
from publisher.sparql.serialize import BYTES, ROWS, serialize_result

EX = "http://example.org/"
NAMES = ("Xocalı", "Ходжалы", 'quote " tab \t newline \n end', "plain")


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    quads = []
    for i in range(20_000):
        subject = ox.NamedNode(f"{EX}e/{i}")
        name = NAMES[i % len(NAMES)]
        quads.append(ox.Quad(subject, ox.NamedNode(f"{EX}name"), ox.Literal(name, language="az")))
        quads.append(ox.Quad(subject, ox.NamedNode(f"{EX}n"), ox.Literal(i)))
    store.bulk_extend(quads)
    return store


MANY = f"SELECT ?e ?name ?n WHERE {{ ?e <{EX}name> ?name ; <{EX}n> ?n }} ORDER BY ?n"
HOSTILE = (
    "SELECT ?t ?d ?b ?z ?r ?none WHERE { "
    f'BIND(<<( <{EX}a> <{EX}b> "x\\ny"@en )>> AS ?t) BIND(1.50 AS ?d) BIND(true AS ?b) '
    'BIND("Xocalı"@az AS ?z) BIND("Ходжалы"@ru AS ?r) }'
)


def rows_of(body: bytes, fmt: formats.Format) -> list[tuple]:
    result = ox.parse_query_results(body, fmt.oxigraph)
    names = [v.value for v in result.variables]
    return [tuple(str(row[n]) if row[n] is not None else None for n in names) for row in result]


def engine_rows(store: ox.Store, query: str) -> list[tuple]:
    result = store.query(query)
    names = [v.value for v in result.variables]
    return [tuple(str(row[n]) if row[n] is not None else None for n in names) for row in result]


@pytest.mark.parametrize("fmt", [f for f in formats.RESULT_FORMATS if f is not formats.CSV])
@pytest.mark.parametrize("query", [HOSTILE, MANY + " LIMIT 50", "SELECT * WHERE {}"])
def test_within_the_limits_the_answer_is_the_engines(
    store: ox.Store, query: str, fmt: formats.Format
) -> None:
    done = serialize_result(store.query(query), fmt, max_rows=100, prefixes={})
    assert not done.truncated and done.cut_by is None
    assert rows_of(done.body, fmt) == engine_rows(store, query)
    assert done.rows == len(engine_rows(store, query))


def test_csv_within_the_limits_is_pyoxigraphs_csv(store: ox.Store) -> None:
    done = serialize_result(store.query(HOSTILE), formats.CSV, max_rows=100, prefixes={})
    assert done.body == store.query(HOSTILE).serialize(format=ox.QueryResultsFormat.CSV)


@pytest.mark.parametrize("fmt", [formats.SPARQL_JSON, formats.TSV, formats.SPARQL_XML])
def test_a_large_result_is_cut_at_the_row_limit(store: ox.Store, fmt: formats.Format) -> None:
    done = serialize_result(store.query(MANY), fmt, max_rows=123, prefixes={})
    assert done.truncated and done.cut_by == ROWS and done.rows == 123
    assert rows_of(done.body, fmt) == engine_rows(store, MANY)[:123]
    if fmt is not formats.TSV:  # said in the body where the format has room
        assert b"sparql_max_rows" in done.body


def test_exactly_the_row_limit_is_not_a_cut(store: ox.Store) -> None:
    done = serialize_result(store.query(MANY + " LIMIT 40"), formats.TSV, max_rows=40, prefixes={})
    assert not done.truncated and done.rows == 40


@pytest.mark.parametrize("fmt", [formats.SPARQL_JSON, formats.TSV])
@pytest.mark.parametrize("limit", [1_000, 20_000, 100_000])
def test_a_large_result_is_cut_to_whole_rows_within_the_bytes(
    store: ox.Store, fmt: formats.Format, limit: int
) -> None:
    done = serialize_result(
        store.query(MANY), fmt, max_rows=1_000_000, prefixes={}, max_bytes=limit
    )
    assert done.truncated and done.cut_by == BYTES
    assert len(done.body) <= limit + 600  # the rows within the limit, then the note of the cut
    kept = rows_of(done.body, fmt)
    assert 0 < len(kept) == done.rows
    assert kept == engine_rows(store, MANY)[: len(kept)]


def test_the_byte_limit_bounds_the_whole_body(store: ox.Store) -> None:
    query = MANY + " LIMIT 30"
    whole = store.query(query).serialize(format=ox.QueryResultsFormat.TSV)
    done = serialize_result(
        store.query(query), formats.TSV, max_rows=100, prefixes={}, max_bytes=len(whole)
    )
    assert not done.truncated and done.body == whole
    done = serialize_result(
        store.query(query), formats.TSV, max_rows=100, prefixes={}, max_bytes=len(whole) - 1
    )
    assert done.truncated and done.cut_by == BYTES and 0 < done.rows < 30
    assert len(done.body) < len(whole)
    assert rows_of(done.body, formats.TSV) == engine_rows(store, query)[: done.rows]
