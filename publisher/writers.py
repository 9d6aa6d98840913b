"""How the formats of the table write, and where a note goes in what they wrote.

Each entry of the format table (publisher/formats.py) names one writer and one commenter of
this module. Writers take the entry (its pyoxigraph value object says the syntax) and the
statements, a whole store (the dumps) or a result table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

import pyoxigraph as ox

from publisher.jsonld import compact
from publisher.namespaces import prefixes as published_prefixes
from publisher.xmlsafe import check_rdf_xml, check_results_xml

if TYPE_CHECKING:
    from publisher.formats import Format

# What an RDF writer is given: statements (triples, or quads whose default graph is the
# union and whose named graphs are the provenance), or a whole store (the dumps).
Statements = Iterable[ox.Triple | ox.Quad] | ox.Store
# What a results writer is given: the result table.
Table = ox.QuerySolutions | ox.QueryBoolean
Writer = Callable[..., bytes]  # (fmt, source, *, prefixes, base) -> bytes
Commenter = Callable[[bytes, str], bytes]  # (body, note) -> body with the note


# -- comments: where a note (truncation, "not found") goes in a body --------------------------
def hash_comment(body: bytes, note: str) -> bytes:
    """Turtle, TriG, N-Triples, N-Quads: '#' to the end of a line."""
    return f"# {' '.join(note.splitlines())}\n".encode() + body


def xml_comment(body: bytes, note: str) -> bytes:
    """RDF/XML, SPARQL XML: a comment after the XML declaration ('--' cannot occur in one)."""
    text = " ".join(note.splitlines()).replace("--", "- -")
    declaration_end = body.find(b"?>") + 2 if body.startswith(b"<?xml") else 0
    return body[:declaration_end] + f"<!-- {text} -->".encode() + body[declaration_end:]


def json_warning(body: bytes, note: str) -> bytes:
    """SPARQL JSON: a top-level "warning" member (readers ignore members they do not know)."""
    if not body.startswith(b"{"):
        return body
    return b'{"warning":' + json.dumps(note, ensure_ascii=False).encode() + b"," + body[1:]


def no_comment(body: bytes, note: str) -> bytes:
    """CSV, TSV, JSON-LD: no room for a note; the response headers say it."""
    return body


# -- writers -----------------------------------------------------------------------------------
def _as_quads(statements: Iterable[ox.Triple | ox.Quad]) -> list[ox.Quad]:
    return [
        s if isinstance(s, ox.Quad) else ox.Quad(s.subject, s.predicate, s.object)
        for s in statements
    ]


def _as_triples(statements: Iterable[ox.Triple | ox.Quad]) -> list[ox.Triple]:
    """The default graph's statements (a quad's default graph holds the union)."""
    return [
        ox.Triple(s.subject, s.predicate, s.object)
        for s in statements
        if isinstance(s, ox.Triple) or isinstance(s.graph_name, ox.DefaultGraph)
    ]


def write_oxigraph(
    fmt: Format, source: Statements, *, prefixes: Mapping[str, str], base: str
) -> bytes:
    """pyoxigraph's writer. A triple format writes the default graph (the union); a dataset
    format also writes the named graphs."""
    value = fmt.oxigraph
    assert isinstance(value, ox.RdfFormat)
    options = {"format": value, "prefixes": dict(prefixes)}
    if isinstance(source, ox.Store):
        if value.supports_datasets:
            return source.dump(**options)
        return source.dump(from_graph=ox.DefaultGraph(), **options)
    items = _as_quads(source) if value.supports_datasets else _as_triples(source)
    return ox.serialize(items, **options)


def write_rdf_xml(
    fmt: Format, source: Statements, *, prefixes: Mapping[str, str], base: str
) -> bytes:
    """pyoxigraph's RDF/XML, refusing (NotXmlSafe naming the term) what XML cannot carry.
    A whole store (the dump) is checked by the builder on the written bytes instead."""
    if not isinstance(source, ox.Store):
        source = _as_triples(source)
        check_rdf_xml(source)
    return write_oxigraph(fmt, source, prefixes=prefixes, base=base)


def write_compact_jsonld(
    fmt: Format, source: Statements, *, prefixes: Mapping[str, str], base: str
) -> bytes:
    """publisher.jsonld's compactor. The @context is the published one: all the prefixes of
    `base` (not only those used, unlike Turtle), else `prefixes` (the query worker's, which
    are the published ones).

    A whole store (the dump) is written by Oxigraph's JSON-LD writer instead: expanded
    JSON-LD 1.1 (no @context), the named graphs as graph objects. Compacting in Python cost
    47 s and most of the build's memory at 10,000 documents (2.5M quads); Oxigraph writes it
    in about 8 s, in Rust, without holding the GIL. Resource descriptions stay compact."""
    if isinstance(source, ox.Store):
        return source.dump(format=ox.RdfFormat.JSON_LD)
    context = published_prefixes(base) if base else prefixes
    return compact(_as_quads(source), prefixes=context)


def write_results(fmt: Format, table: Table, *, prefixes: Mapping[str, str], base: str) -> bytes:
    value = fmt.oxigraph
    assert isinstance(value, ox.QueryResultsFormat)
    return table.serialize(format=value)


def write_results_xml(
    fmt: Format, table: Table, *, prefixes: Mapping[str, str], base: str
) -> bytes:
    """SPARQL XML, refusing (NotXmlSafe) what XML cannot carry: never broken XML."""
    body = write_results(fmt, table, prefixes=prefixes, base=base)
    check_results_xml(body, alternatives="application/sparql-results+json or text/csv")
    return body
