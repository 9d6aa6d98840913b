"""The one table of formats.

Negotiation, file extensions of resources, dump file names, ``Link: rel=alternate`` headers,
the SPARQL result serializers and the HTML "other formats" links are all driven from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import pyoxigraph as ox

from publisher.dist import SUMS_FILE


class Kind(Enum):
    RDF = "rdf"  # an RDF graph or dataset serialization
    RESULTS = "results"  # SPARQL SELECT/ASK results
    PAGE = "page"  # HTML for people


@dataclass(frozen=True)
class Format:
    name: str  # short name, also the value of ?format= / ?output=
    label: str
    media_type: str
    extension: str
    kind: Kind
    carries_graphs: bool = False  # keeps named graphs (the provenance) when serialized
    textual: bool = True  # gets "; charset=utf-8"
    aliases: tuple[str, ...] = ()  # other media types that mean the same thing
    rdf_format: ox.RdfFormat | None = None
    results_format: ox.QueryResultsFormat | None = None

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.textual else self.media_type

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


TURTLE = Format(
    "turtle",
    "Turtle",
    "text/turtle",
    "ttl",
    Kind.RDF,
    aliases=("application/x-turtle",),
    rdf_format=ox.RdfFormat.TURTLE,
)
JSON_LD = Format(
    "jsonld",
    "JSON-LD",
    "application/ld+json",
    "jsonld",
    Kind.RDF,
    carries_graphs=True,
    # JSON-LD is JSON: clients asking for plain JSON get it (SELECT/ASK results, where
    # JSON-LD is not offered, still answer application/sparql-results+json).
    aliases=("application/json",),
    rdf_format=ox.RdfFormat.JSON_LD,
)
N_TRIPLES = Format(
    "ntriples",
    "N-Triples",
    "application/n-triples",
    "nt",
    Kind.RDF,
    aliases=("text/plain",),
    rdf_format=ox.RdfFormat.N_TRIPLES,
)
RDF_XML = Format(
    "rdfxml",
    "RDF/XML",
    "application/rdf+xml",
    "rdf",
    Kind.RDF,
    aliases=("application/xml", "text/xml"),
    rdf_format=ox.RdfFormat.RDF_XML,
)
N_QUADS = Format(
    "nquads",
    "N-Quads",
    "application/n-quads",
    "nq",
    Kind.RDF,
    carries_graphs=True,
    aliases=("text/x-nquads",),
    rdf_format=ox.RdfFormat.N_QUADS,
)
TRIG = Format(
    "trig",
    "TriG",
    "application/trig",
    "trig",
    Kind.RDF,
    carries_graphs=True,
    aliases=("application/x-trig",),
    rdf_format=ox.RdfFormat.TRIG,
)
HTML = Format("html", "HTML", "text/html", "html", Kind.PAGE, aliases=("application/xhtml+xml",))

SPARQL_JSON = Format(
    "json",
    "SPARQL JSON",
    "application/sparql-results+json",
    "srj",
    Kind.RESULTS,
    aliases=("application/json",),
    results_format=ox.QueryResultsFormat.JSON,
)
SPARQL_XML = Format(
    "xml",
    "SPARQL XML",
    "application/sparql-results+xml",
    "srx",
    Kind.RESULTS,
    aliases=("application/xml", "text/xml"),
    results_format=ox.QueryResultsFormat.XML,
)
CSV = Format(
    "csv", "CSV", "text/csv", "csv", Kind.RESULTS, results_format=ox.QueryResultsFormat.CSV
)
TSV = Format(
    "tsv",
    "TSV",
    "text/tab-separated-values",
    "tsv",
    Kind.RESULTS,
    results_format=ox.QueryResultsFormat.TSV,
)

# Order matters: on an Accept tie the earlier format wins, and Turtle is the default for
# clients that send no Accept or only */*.
RDF_FORMATS: tuple[Format, ...] = (TURTLE, JSON_LD, N_TRIPLES, RDF_XML, N_QUADS, TRIG)
RESULT_FORMATS: tuple[Format, ...] = (SPARQL_JSON, SPARQL_XML, CSV, TSV)
RESOURCE_FORMATS: tuple[Format, ...] = (*RDF_FORMATS, HTML)
ALL_FORMATS: tuple[Format, ...] = (*RDF_FORMATS, HTML, *RESULT_FORMATS)


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


# Dumps published by `build`: every RDF format of the table.
DUMP_FORMATS: tuple[Format, ...] = (N_QUADS, TRIG, TURTLE, N_TRIPLES, JSON_LD, RDF_XML)


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
