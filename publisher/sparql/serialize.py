"""Query results -> bytes in a format of the format table, with at most `max_rows` rows.

Runs inside the query worker process, so that the web process does no heavy work.
pyoxigraph serializes a whole result set and cannot be told to stop after N solutions, so
the first N+1 solutions are read here, written as SPARQL TSV (whose terms are exactly
pyoxigraph's N-Triples ``str()``), and parsed back into a result set that pyoxigraph then
serializes in the requested format: every format stays pyoxigraph's own, lossless writer.

A cut is never silent: the caller gets `truncated` (for the HTTP headers) and, where the
format has room for it, the body says so too (a comment in Turtle/N-Triples/N-Quads/TriG
and XML, a top-level "warning" member in SPARQL JSON).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

import pyoxigraph as ox

from publisher import formats
from publisher.formats import Format, Kind
from publisher.xmlsafe import check_rdf_xml, check_results_xml


@dataclass(frozen=True)
class Serialized:
    body: bytes
    kind: str  # "solutions", "boolean" or "graph"
    rows: int  # solutions or triples written (1 for a boolean)
    truncated: bool
    variables: tuple[str, ...] = ()


def reply_header(serialized: Serialized, *, elapsed_s: float) -> dict[str, object]:
    """What a query runner (worker process or remote store) reports beside the bytes."""
    return {
        "ok": True,
        "kind": serialized.kind,
        "rows": serialized.rows,
        "truncated": serialized.truncated,
        "variables": list(serialized.variables),
        "elapsed_ms": round(elapsed_s * 1000, 3),
    }


def truncation_note(max_rows: int) -> str:
    return (
        f"results truncated to the first {max_rows} rows by the endpoint's limit "
        "sparql_max_rows; add LIMIT/OFFSET to page through them"
    )


def serialize_result(
    result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples,
    fmt: Format,
    *,
    max_rows: int,
    prefixes: dict[str, str],
) -> Serialized:
    if isinstance(result, ox.QueryBoolean):
        return _boolean(result, fmt)
    if isinstance(result, ox.QuerySolutions):
        return _solutions(result, fmt, max_rows=max_rows)
    return _graph(result, fmt, max_rows=max_rows, prefixes=prefixes)


def _boolean(result: ox.QueryBoolean, fmt: Format) -> Serialized:
    results_format = fmt.results_format or formats.SPARQL_JSON.results_format
    return Serialized(result.serialize(format=results_format), "boolean", 1, False)


def _tsv_line(terms: list[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None]) -> str:
    return "\t".join("" if term is None else str(term) for term in terms)


def _solutions(result: ox.QuerySolutions, fmt: Format, *, max_rows: int) -> Serialized:
    variables = result.variables
    names = tuple(v.value for v in variables)
    lines = [_tsv_line([row[v] for v in variables]) for row in islice(result, max_rows + 1)]
    return _from_tsv(names, lines, fmt, max_rows=max_rows, kind="solutions")


def _from_tsv(
    names: tuple[str, ...], lines: list[str], fmt: Format, *, max_rows: int, kind: str
) -> Serialized:
    truncated = len(lines) > max_rows
    del lines[max_rows:]
    tsv = "\t".join("?" + n for n in names) + "\n" + "".join(line + "\n" for line in lines)
    table = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV)
    assert isinstance(table, ox.QuerySolutions)
    results_format = fmt.results_format or formats.SPARQL_JSON.results_format
    body = table.serialize(format=results_format)
    if fmt is formats.SPARQL_XML:  # never broken XML: refuse what XML cannot carry
        check_results_xml(body, alternatives="application/sparql-results+json or text/csv")
    if truncated:
        body = _note_in_body(body, fmt, truncation_note(max_rows))
    return Serialized(body, kind, len(lines), truncated, names)


def _graph(
    result: ox.QueryTriples, fmt: Format, *, max_rows: int, prefixes: dict[str, str]
) -> Serialized:
    triples = list(islice(result, max_rows + 1))
    truncated = len(triples) > max_rows
    del triples[max_rows:]
    if fmt.kind is Kind.RESULTS:
        # A table of the triples (the HTML page asks for this).
        names = ("subject", "predicate", "object")
        lines = [_tsv_line([t.subject, t.predicate, t.object]) for t in triples]
        if truncated:
            lines.append("")  # keeps the cut visible to _from_tsv
        return _from_tsv(names, lines, fmt, max_rows=max_rows, kind="graph")
    assert fmt.rdf_format is not None
    items: list[ox.Triple] | list[ox.Quad] = triples
    if fmt.carries_graphs and fmt is not formats.JSON_LD:
        # Quad formats take quads: a query's graph is the default graph.
        items = [ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples]
    if fmt is formats.RDF_XML:  # never broken XML: refuse what RDF/XML cannot carry
        check_rdf_xml(triples)
    body = ox.serialize(items, format=fmt.rdf_format, prefixes=prefixes)
    if truncated:
        body = _note_in_body(body, fmt, truncation_note(max_rows))
    return Serialized(body, "graph", len(triples), truncated)


def _note_in_body(body: bytes, fmt: Format, note: str) -> bytes:
    """Say 'truncated' inside the document where the syntax allows a comment or a member."""
    if fmt in (formats.TURTLE, formats.N_TRIPLES, formats.N_QUADS, formats.TRIG):
        return f"# {note}\n".encode() + body
    if fmt in (formats.SPARQL_XML, formats.RDF_XML):
        comment = f"<!-- {note} -->".encode()
        declaration_end = body.find(b"?>") + 2 if body.startswith(b"<?xml") else 0
        return body[:declaration_end] + comment + body[declaration_end:]
    if fmt is formats.SPARQL_JSON and body.startswith(b"{"):
        return b'{"warning":"' + note.encode() + b'",' + body[1:]
    return body  # CSV, TSV, JSON-LD: the X-SPARQL-Truncated header says it
