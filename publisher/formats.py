"""The one table of formats, and the writers behind it.

Negotiation, file extensions of resources, dump file names, ``Link: rel=alternate`` headers,
the HTML "other formats" links, the SPARQL result writers and the service description's
format list are all driven from here. Each entry wraps pyoxigraph's value object
(``ox.RdfFormat`` / ``ox.QueryResultsFormat``), which carries the media type, extension,
W3C format IRI and whether it keeps named graphs; each entry owns how it writes (`write`) and
how a note goes into a body it wrote (`comment`), with a writer and a commenter of
publisher/writers.py. A new format is one entry of `RDF_FORMATS` or `RESULT_FORMATS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

import pyoxigraph as ox

from publisher.dist import SUMS_FILE
from publisher.writers import (
    Commenter,
    Statements,
    Table,
    Writer,
    hash_comment,
    json_warning,
    no_comment,
    write_compact_jsonld,
    write_oxigraph,
    write_rdf_xml,
    write_results,
    write_results_xml,
    xml_comment,
)


class Family(Enum):
    """What a format writes."""

    RDF = "rdf"  # an RDF graph or dataset serialization
    RESULTS = "results"  # SPARQL SELECT/ASK results
    PAGE = "page"  # HTML (or an error text) for people


@dataclass(frozen=True)
class Format:
    name: str  # short name, also the value of ?format= / ?output=
    label: str
    media_type: str
    extension: str
    family: Family
    aliases: tuple[str, ...] = ()  # other media types that mean the same thing
    textual: bool = True  # gets "; charset=utf-8"
    iri: str | None = None  # the W3C format IRI (https://www.w3.org/ns/formats/)
    supports_datasets: bool = False  # keeps named graphs (the provenance) when written
    oxigraph: ox.RdfFormat | ox.QueryResultsFormat | None = None
    writer: Writer | None = field(default=None, repr=False)
    commenter: Commenter = field(default=no_comment, repr=False)

    @classmethod
    def rdf(
        cls,
        name: str,
        value: ox.RdfFormat,
        *,
        aliases: tuple[str, ...] = (),
        iri: str | None = None,
        writer: Writer = write_oxigraph,
        commenter: Commenter = no_comment,
    ) -> Format:
        """An RDF format described by pyoxigraph's value object."""
        return cls(
            name,
            value.name,
            _bare(value.media_type),
            value.file_extension,
            Family.RDF,
            aliases=aliases,
            iri=iri or value.iri,
            supports_datasets=value.supports_datasets,
            oxigraph=value,
            writer=writer,
            commenter=commenter,
        )

    @classmethod
    def results(
        cls,
        name: str,
        label: str,
        value: ox.QueryResultsFormat,
        *,
        aliases: tuple[str, ...] = (),
        writer: Writer = write_results,
        commenter: Commenter = no_comment,
    ) -> Format:
        """A SPARQL results format described by pyoxigraph's value object."""
        return cls(
            name,
            label,
            _bare(value.media_type),
            value.file_extension,
            Family.RESULTS,
            aliases=aliases,
            iri=value.iri,
            oxigraph=value,
            writer=writer,
            commenter=commenter,
        )

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.textual else self.media_type

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)

    def write(
        self,
        source: Statements | Table,
        *,
        prefixes: Mapping[str, str] | None = None,
        base: str = "",
    ) -> bytes:
        """RDF formats: statements or a store -> bytes; results formats: the table -> bytes.
        XML formats raise `publisher.xmlsafe.NotXmlSafe` rather than write broken XML."""
        if self.writer is None:
            raise TypeError(f"{self.label} is not written from statements")
        return self.writer(self, source, prefixes=prefixes or {}, base=base)

    def comment(self, body: bytes, note: str) -> bytes:
        """`body` with `note` in it where the syntax has room for one (else unchanged)."""
        return self.commenter(body, note)


def _bare(media_type: str) -> str:
    """pyoxigraph's CSV/TSV media types carry '; charset=utf-8': the table adds it itself."""
    return media_type.split(";", 1)[0].strip()


TURTLE = Format.rdf(
    "turtle", ox.RdfFormat.TURTLE, aliases=("application/x-turtle",), commenter=hash_comment
)
JSON_LD = Format.rdf(
    "jsonld",
    ox.RdfFormat.JSON_LD,
    # JSON-LD is JSON: clients asking for plain JSON get it (SELECT/ASK results, where
    # JSON-LD is not offered, still answer application/sparql-results+json).
    aliases=("application/json",),
    # pyoxigraph 0.5 names the JSON-LD 1.1 "data" IRI; the list of W3C format IRIs
    # (https://www.w3.org/ns/formats/) that SPARQL service descriptions use has this one.
    iri="http://www.w3.org/ns/formats/JSON-LD",
    writer=write_compact_jsonld,
)
N_TRIPLES = Format.rdf(
    "ntriples", ox.RdfFormat.N_TRIPLES, aliases=("text/plain",), commenter=hash_comment
)
RDF_XML = Format.rdf(
    "rdfxml",
    ox.RdfFormat.RDF_XML,
    aliases=("application/xml", "text/xml"),
    writer=write_rdf_xml,
    commenter=xml_comment,
)
N_QUADS = Format.rdf(
    "nquads", ox.RdfFormat.N_QUADS, aliases=("text/x-nquads",), commenter=hash_comment
)
TRIG = Format.rdf(
    "trig", ox.RdfFormat.TRIG, aliases=("application/x-trig",), commenter=hash_comment
)
HTML = Format("html", "HTML", "text/html", "html", Family.PAGE, aliases=("application/xhtml+xml",))

SPARQL_JSON = Format.results(
    "json",
    "SPARQL JSON",
    ox.QueryResultsFormat.JSON,
    aliases=("application/json",),
    commenter=json_warning,
)
SPARQL_XML = Format.results(
    "xml",
    "SPARQL XML",
    ox.QueryResultsFormat.XML,
    aliases=("application/xml", "text/xml"),
    writer=write_results_xml,
    commenter=xml_comment,
)
CSV = Format.results("csv", "CSV", ox.QueryResultsFormat.CSV)
TSV = Format.results("tsv", "TSV", ox.QueryResultsFormat.TSV)

# Order matters: on an Accept tie the earlier format wins, and Turtle is the default for
# clients that send no Accept or only */*.
RDF_FORMATS: tuple[Format, ...] = (TURTLE, JSON_LD, N_TRIPLES, RDF_XML, N_QUADS, TRIG)
RESULT_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, CSV, TSV)
RESOURCE_FORMATS: tuple[Format, ...] = (*RDF_FORMATS, HTML)
ALL_FORMATS: tuple[Format, ...] = (*RDF_FORMATS, HTML, *RESULT_FORMATS)
# Dumps published by the builder: every RDF format.
DUMP_FORMATS: tuple[Format, ...] = RDF_FORMATS


def by_extension(extension: str, formats: tuple[Format, ...] = RESOURCE_FORMATS) -> Format | None:
    extension = extension.lower().lstrip(".")
    return next((f for f in formats if f.extension == extension), None)


def by_name(name: str, formats: tuple[Format, ...] = ALL_FORMATS) -> Format | None:
    """Look a format up by short name, extension or media type (the ?format= override)."""
    key = name.strip().lower()
    for f in formats:
        if key in (f.name, f.extension) or key in f.media_types:
            return f
    return None


def dump_name(fmt: Format, *, compressed: bool = True) -> str:
    """File name of the whole-dataset dump in this format: dataset.ttl.gz, dataset.nq.gz ..."""
    return f"dataset.{fmt.extension}" + (".gz" if compressed else "")


def describe_file(name: str) -> tuple[str, str]:
    """(media type to serve, what it holds) for a file in dist/.

    A ``.gz`` dump is served as ``application/gzip`` rather than with ``Content-Encoding``:
    the file is the resource, so a download keeps the bytes whose SHA-256 is published.
    """
    if name.endswith(".gz"):
        _inner_type, holds = describe_file(name[: -len(".gz")])
        return "application/gzip", f"{holds}, gzip-compressed"
    if name == SUMS_FILE:
        return "text/plain; charset=utf-8", "SHA-256 checksums (sha256sum -c)"
    if name.endswith(".json"):
        return "application/json", "JSON"
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    fmt = by_extension(extension, ALL_FORMATS)
    if fmt is not None:
        return fmt.content_type, fmt.label
    return "application/octet-stream", "binary"
