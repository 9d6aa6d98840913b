"""Query results -> bytes in a format of the format table, within `max_rows` and `max_bytes`.

Runs inside the query worker process, so that the web process does no heavy work.
pyoxigraph serializes a whole result set and cannot be told to stop after N solutions, so
solutions are written by pyoxigraph as SPARQL TSV into a sink (`_TsvSink`) that counts rows and
bytes and stops the writer, and the evaluation it pulls, once a limit is passed. TSV is
lossless (terms in N-Triples syntax, RDF 1.2 triple terms as ``<<( s p o )>>``) and has one
line per solution. TSV is answered as is; for the other formats the TSV is parsed back into a
result set that pyoxigraph serializes in the requested format with its own writer. Reading the
solutions one by one in Python instead cost a quarter of a range query's time (202 rows:
15.0 ms against 11.7 ms, bench/serialize_cost.py).

A cut is never silent: the caller gets `truncated` and `cut_by` (which limit: rows or bytes,
for the HTTP headers) and, where the format has room for it, the body says so too
(`Format.comment`: a comment in Turtle/N-Triples/N-Quads/TriG and XML, a top-level "warning"
member in SPARQL JSON).
Reading stops as soon as the TSV of what was read passes the byte limit, so a huge result
never sits whole in the worker's memory.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from publisher import formats
from publisher.formats import Family, Format

ROWS = "rows"
BYTES = "bytes"
# The setting behind each kind of cut (named in notes and headers).
CUT_SETTINGS = {ROWS: "sparql_max_rows", BYTES: "sparql_max_response_bytes"}


@dataclass(frozen=True)
class Serialized:
    body: bytes
    kind: str  # "solutions", "boolean" or "graph"
    rows: int  # solutions or triples written (1 for a boolean)
    truncated: bool
    variables: tuple[str, ...] = ()
    cut_by: str | None = None  # ROWS or BYTES when truncated


def reply_header(serialized: Serialized, *, elapsed_s: float) -> dict[str, object]:
    """What a query runner (worker process or remote store) reports beside the bytes."""
    return {
        "ok": True,
        "kind": serialized.kind,
        "rows": serialized.rows,
        "truncated": serialized.truncated,
        "cut_by": serialized.cut_by,
        "variables": list(serialized.variables),
        "elapsed_ms": round(elapsed_s * 1000, 3),
    }


def truncation_note(max_rows: int, *, cut_by: str = ROWS, max_bytes: int = 0) -> str:
    if cut_by == BYTES:
        return (
            f"results truncated to whole rows within {max_bytes} bytes by the endpoint's limit "
            "sparql_max_response_bytes; add LIMIT/OFFSET to page through them"
        )
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
    max_bytes: int = 0,
) -> Serialized:
    """`max_bytes` 0 means no byte limit."""
    limits = _Limits(max_rows, max_bytes or 1 << 62)
    if isinstance(result, ox.QueryBoolean):
        return _boolean(result, fmt)
    if isinstance(result, ox.QuerySolutions):
        return _solutions(result, fmt, limits)
    return _graph(result, fmt, limits, prefixes=prefixes)


@dataclass(frozen=True)
class _Limits:
    rows: int
    bytes: int

    def note(self, cut_by: str) -> str:
        return truncation_note(self.rows, cut_by=cut_by, max_bytes=self.bytes)


def _boolean(result: ox.QueryBoolean, fmt: Format) -> Serialized:
    writer = fmt if fmt.family is Family.RESULTS else formats.SPARQL_JSON
    return Serialized(writer.write(result), "boolean", 1, False)


Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


def tsv_term(term: Term | None) -> str:
    """A term as SPARQL TSV writes it: N-Triples syntax, triple terms as ``<<( s p o )>>``.

    ``str(Triple)`` is ``s p o`` without the delimiters, which no parser reads back.
    """
    if term is None:
        return ""
    if isinstance(term, ox.Triple):
        inner = " ".join(tsv_term(t) for t in (term.subject, term.predicate, term.object))
        return f"<<( {inner} )>>"
    return str(term)


def _tsv_line(terms: list[Term | None]) -> str:
    return "\t".join(tsv_term(term) for term in terms) + "\n"


def _read_lines(rows: Iterable[list[Term | None]], limits: _Limits) -> tuple[list[str], str | None]:
    """TSV lines of the rows until a limit is passed; (lines kept, the limit that cut)."""
    lines: list[str] = []
    size = 0
    for terms in rows:
        if len(lines) == limits.rows:
            return lines, ROWS
        line = _tsv_line(terms)
        size += len(line.encode("utf-8"))
        if size > limits.bytes:
            return lines, BYTES
        lines.append(line)
    return lines, None


class _Full(Exception):
    """Raised from `_TsvSink.write` to stop pyoxigraph's writer (it passes the error on)."""


class _TsvSink:
    """Takes the TSV pyoxigraph writes, and stops it once a solution beyond `limits.rows` is
    complete or the solutions' bytes pass `limits.bytes`: a huge result never sits whole here
    (pyoxigraph writes in chunks of about 8 KiB)."""

    def __init__(self, limits: _Limits, *, head_bytes: int) -> None:
        self.chunks: list[bytes] = []
        self.full = False
        self._size = 0
        self._newlines = 0
        self._most_lines = limits.rows + 1  # the head line and the solutions allowed
        self._most_bytes = limits.bytes + head_bytes

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self._size += len(chunk)
        self._newlines += chunk.count(b"\n")
        if self._newlines > self._most_lines or self._size > self._most_bytes:
            self.full = True
            raise _Full
        return len(chunk)

    def flush(self) -> None:
        pass


def _solutions(result: ox.QuerySolutions, fmt: Format, limits: _Limits) -> Serialized:
    names = tuple(v.value for v in result.variables)
    head = ("\t".join("?" + n for n in names) + "\n").encode("utf-8")  # pyoxigraph's head line
    sink = _TsvSink(limits, head_bytes=len(head))
    with contextlib.suppress(_Full):  # the sink stopped the writer at a limit
        result.serialize(sink, format=ox.QueryResultsFormat.TSV)
    tsv = b"".join(sink.chunks)
    assert tsv.startswith(head), (tsv[:100], head)
    if not sink.full:
        # Within both limits (the usual case): answer from the whole TSV, no line splitting.
        rows = tsv.count(b"\n") - 1
        body = _write_tsv(tsv, fmt)
        if len(body) <= limits.bytes:
            return Serialized(body, "solutions", rows, False, names)
    lines, cut_by = _read_tsv_lines(tsv[len(head) :], limits, full=sink.full)
    return _from_tsv(names, lines, fmt, limits, cut_by=cut_by, kind="solutions")


def _write_tsv(tsv: bytes, fmt: Format) -> bytes:
    """A whole TSV result set in `fmt` (a results format, or SPARQL JSON for others)."""
    if fmt.oxigraph == ox.QueryResultsFormat.TSV:
        return tsv
    table = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV)
    assert isinstance(table, ox.QuerySolutions)
    # XML formats raise NotXmlSafe rather than write broken XML.
    return (fmt if fmt.family is Family.RESULTS else formats.SPARQL_JSON).write(table)


def _read_tsv_lines(data: bytes, limits: _Limits, *, full: bool) -> tuple[list[str], str | None]:
    """The whole solution lines of `data` (TSV without its head) within the limits, as
    `_read_lines` keeps them; `full`: the sink stopped the writer, so more solutions follow."""
    lines: list[str] = []
    size = 0
    for line in data.split(b"\n")[:-1]:  # the last piece is unfinished (or empty)
        if len(lines) == limits.rows:
            return lines, ROWS
        size += len(line) + 1
        if size > limits.bytes:
            return lines, BYTES
        lines.append(line.decode("utf-8") + "\n")
    # Every whole line fits: the sink stopped inside the next one, which passes the bytes.
    return lines, BYTES if full else None


def _from_tsv(
    names: tuple[str, ...],
    lines: list[str],
    fmt: Format,
    limits: _Limits,
    *,
    cut_by: str | None,
    kind: str,
) -> Serialized:
    head = "\t".join("?" + n for n in names) + "\n"
    while True:
        body = _write_tsv((head + "".join(lines)).encode("utf-8"), fmt)
        if len(body) <= limits.bytes or not lines:
            break
        # Other formats are larger than TSV: keep fewer whole rows, in proportion.
        cut_by = BYTES
        _keep_in_proportion(lines, size=len(body), limit=limits.bytes)
    if cut_by:
        body = fmt.comment(body, limits.note(cut_by))
    return Serialized(body, kind, len(lines), cut_by is not None, names, cut_by)


def _keep_in_proportion(items: list, *, size: int, limit: int) -> None:
    """Cut whole items so that a body of `size` bytes would shrink under `limit` (at least one
    item goes, so the caller's loop ends)."""
    del items[max(0, min(len(items) - 1, len(items) * limit // size - 1)) :]


def _graph(
    result: ox.QueryTriples, fmt: Format, limits: _Limits, *, prefixes: dict[str, str]
) -> Serialized:
    if fmt.family is Family.RESULTS:
        # A table of the triples (the HTML page asks for this).
        names = ("subject", "predicate", "object")
        rows = ([t.subject, t.predicate, t.object] for t in result)
        lines, cut_by = _read_lines(rows, limits)
        return _from_tsv(names, lines, fmt, limits, cut_by=cut_by, kind="graph")
    triples: list[ox.Triple] = []
    cut_by: str | None = None
    size = 0
    for triple in result:
        if len(triples) == limits.rows:
            cut_by = ROWS
            break
        size += len(tsv_term(triple).encode("utf-8")) + 3  # about its N-Triples line
        if size > limits.bytes:
            cut_by = BYTES
            break
        triples.append(triple)
    while True:
        # A query's graph is the default graph. RDF/XML raises NotXmlSafe rather than
        # write broken XML.
        body = fmt.write(triples, prefixes=prefixes)
        if len(body) <= limits.bytes or not triples:
            break
        cut_by = BYTES
        _keep_in_proportion(triples, size=len(body), limit=limits.bytes)
    if cut_by:
        body = fmt.comment(body, limits.note(cut_by))
    return Serialized(body, "graph", len(triples), cut_by is not None, (), cut_by)
