"""The dataset description (VoID + DCAT) written to dist/void.ttl and served at /dataset.

Statistics come from SPARQL over the built store, so they describe exactly what is published.
They are read from the store's default graph, which holds the union of the named graphs as a
set (store/union.py): distinct triples without a DISTINCT over every graph. `void_statistics`
runs the queries (in a thread of its own during a build: pyoxigraph releases the GIL while it
evaluates); `void_description` states them with the files of dist/.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from publisher import formats
from publisher.namespaces import STANDARD_PREFIXES, prefixes
from publisher.settings import Settings

if TYPE_CHECKING:
    from publisher.dist import BuildInfo

RDF = STANDARD_PREFIXES["rdf"]
XSD = STANDARD_PREFIXES["xsd"]
DCT = STANDARD_PREFIXES["dct"]
VOID = STANDARD_PREFIXES["void"]
DCAT = STANDARD_PREFIXES["dcat"]
SPDX = STANDARD_PREFIXES["spdx"]
SD = STANDARD_PREFIXES["sd"]
FOAF = STANDARD_PREFIXES["foaf"]
IANA = "http://www.iana.org/assignments/media-types/"

EXAMPLE_RESOURCES = 5


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


_INTEGER = ox.NamedNode(XSD + "integer")


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_INTEGER)


def _select(store: ox.Store, query: str) -> list[ox.QuerySolution]:
    # The store's default graph holds the union of the named graphs, as a set (store/union.py).
    return list(store.query(query))


def dataset_iri(base: str) -> str:
    return base + "dataset"


Subject = ox.NamedNode | ox.BlankNode
FileSizes = dict[str, tuple[int, str]]  # dist file name -> (bytes, sha256)


class _Description:
    """The triples of the description, in the order they are stated."""

    def __init__(self, *, settings: Settings, info: BuildInfo) -> None:
        self.base = settings.base_uri
        self.settings = settings
        self.dataset = _n(dataset_iri(self.base))
        self.modified = ox.Literal(info.built_at, datatype=_n(XSD + "dateTime"))
        # Grouped by subject, in order of first mention, so each reads as one Turtle block.
        self._by_subject: dict[Subject, list[ox.Triple]] = {}
        # A description states the same few predicates ten thousand times (a named graph's
        # subset at 10k documents): each made once.
        self._predicates: dict[str, ox.NamedNode] = {}

    def add(self, subject: Subject, predicate: str, value: Subject | ox.Literal) -> None:
        node = self._predicates.get(predicate)
        if node is None:
            node = self._predicates[predicate] = _n(predicate)
        self._by_subject.setdefault(subject, []).append(ox.Triple(subject, node, value))

    def turtle(self) -> bytes:
        ordered = [t for triples in self._by_subject.values() for t in triples]
        return ox.serialize(ordered, format=ox.RdfFormat.TURTLE, prefixes=prefixes(self.base))


@dataclass(frozen=True)
class Statistics:
    """The numbers VoID states about the dataset, read from the built store."""

    subjects: int
    properties: int
    objects: int
    entities: int
    classes: list[tuple[ox.NamedNode | ox.BlankNode, int]]  # class -> distinct instances
    property_triples: list[tuple[ox.NamedNode, int]]  # property -> distinct triples
    graph_triples: list[tuple[ox.NamedNode | ox.BlankNode, int]]  # named graph -> quads
    examples: list[ox.NamedNode]


def void_statistics(store: ox.Store, *, base: str) -> Statistics:
    """Statistics over a store whose default graph holds the union of its named graphs."""
    totals = _select(
        store,
        "SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties) "
        "(COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o }",
    )[0]
    entities = _select(
        store,
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o "
        f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{base}id/")) }}',
    )[0]
    classes = _select(
        store, "SELECT ?x (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?x } GROUP BY ?x ORDER BY ?x"
    )
    # The union is a set, so this counts distinct triples and the partitions add up to
    # void:triples (a triple may sit in two graphs, e.g. a type stated by a source and by
    # the curated data).
    properties = _select(
        store, "SELECT ?x (COUNT(*) AS ?n) WHERE { ?s ?x ?o } GROUP BY ?x ORDER BY ?x"
    )
    graphs = _select(
        store,
        "SELECT ?x (COUNT(*) AS ?n) WHERE { GRAPH ?x { ?s ?p ?o } } GROUP BY ?x ORDER BY ?x",
    )
    examples = _select(
        store,
        f"SELECT DISTINCT ?s WHERE {{ ?s a ?c "
        f'FILTER(STRSTARTS(STR(?s), "{base}id/")) }} ORDER BY ?s LIMIT {EXAMPLE_RESOURCES}',
    )
    return Statistics(
        subjects=_count(totals, "subjects"),
        properties=_count(totals, "properties"),
        objects=_count(totals, "objects"),
        entities=_count(entities, "n"),
        classes=[(row["x"], _count(row, "n")) for row in classes],
        property_triples=[(row["x"], _count(row, "n")) for row in properties],
        graph_triples=[(row["x"], _count(row, "n")) for row in graphs],
        examples=[row["s"] for row in examples],
    )


def void_description(
    store: ox.Store | None,
    *,
    settings: Settings,
    info: BuildInfo,
    files: FileSizes,
    plain_dumps: FileSizes | None = None,
    statistics: Statistics | None = None,
) -> bytes:
    """VoID + DCAT for the built dataset; `files` maps dist file name -> (bytes, sha256);
    `plain_dumps` maps a dump's plain name (dataset.ttl, served decoded or gzip-encoded from
    the .gz file) -> (bytes, sha256) of the decoded content. `statistics` (else read from
    `store`) are the numbers."""
    if statistics is None:
        if store is None:
            raise ValueError("void_description needs the store or its statistics")
        statistics = void_statistics(store, base=settings.base_uri)
    description = _Description(settings=settings, info=info)
    _state_identity(description, info)
    _state_statistics(description, statistics, info)
    _state_named_graphs(description, statistics)
    for example in statistics.examples:
        description.add(description.dataset, VOID + "exampleResource", example)
    _state_distributions(description, files)
    _state_plain_dumps(description, plain_dumps or {}, compressed=files)
    _state_service(description)
    _state_fragments(description)
    return description.turtle()


def _state_identity(d: _Description, info: BuildInfo) -> None:
    """What the dataset is, who publishes it under which licence, where to start."""
    base, ds = d.base, d.dataset
    d.add(ds, RDF + "type", _n(VOID + "Dataset"))
    d.add(ds, RDF + "type", _n(DCAT + "Dataset"))
    d.add(ds, DCT + "title", ox.Literal(d.settings.title, language="en"))
    d.add(ds, DCT + "description", ox.Literal(d.settings.description, language="en"))
    d.add(ds, DCT + "license", _n(d.settings.license))
    d.add(ds, DCT + "modified", d.modified)
    d.add(ds, DCT + "issued", d.modified)
    maintainer = _n(base + "dataset#publisher")
    d.add(ds, DCT + "publisher", maintainer)
    d.add(maintainer, RDF + "type", _n(FOAF + "Agent"))
    d.add(maintainer, FOAF + "name", ox.Literal(d.settings.dataset_publisher))
    d.add(ds, DCT + "identifier", ox.Literal(info.build_id))
    d.add(ds, VOID + "uriSpace", ox.Literal(base + "id/"))
    d.add(ds, VOID + "sparqlEndpoint", _n(base + "sparql"))
    d.add(ds, VOID + "vocabulary", _n(base + "def/"))
    d.add(ds, VOID + "rootResource", _n(base))
    d.add(ds, FOAF + "homepage", _n(base))


def _count(row: ox.QuerySolution, variable: str) -> int:
    return int(row[variable].value)


def _state_statistics(d: _Description, stats: Statistics, info: BuildInfo) -> None:
    """Totals, then the class and property partitions (VoID statistics)."""
    ds = d.dataset
    d.add(ds, VOID + "triples", _int(info.triples))
    d.add(ds, VOID + "distinctSubjects", _int(stats.subjects))
    d.add(ds, VOID + "properties", _int(stats.properties))
    d.add(ds, VOID + "distinctObjects", _int(stats.objects))
    d.add(ds, VOID + "entities", _int(stats.entities))
    d.add(ds, VOID + "classes", _int(len(stats.classes)))
    _state_partitions(d, stats.classes, partition="classPartition", by="class", counted="entities")
    _state_partitions(
        d, stats.property_triples, partition="propertyPartition", by="property", counted="triples"
    )


def _state_partitions(
    d: _Description, rows: list, *, partition: str, by: str, counted: str
) -> None:
    for term, count in rows:
        part = ox.BlankNode()
        d.add(d.dataset, VOID + partition, part)
        d.add(part, VOID + by, term)
        d.add(part, VOID + counted, _int(count))


def _state_named_graphs(d: _Description, stats: Statistics) -> None:
    """Each named graph is a subset with its own triple count."""
    dataset_class, named_graph = _n(VOID + "Dataset"), _n(SD + "NamedGraph")
    for graph, count in stats.graph_triples:
        d.add(d.dataset, VOID + "subset", graph)
        d.add(graph, RDF + "type", dataset_class)
        d.add(graph, RDF + "type", named_graph)
        d.add(graph, SD + "name", graph)
        d.add(graph, VOID + "triples", _int(count))


def _state_distributions(d: _Description, files: FileSizes) -> None:
    """Every file of dist/ (the gzip dumps among them) as a DCAT distribution."""
    for name, (size, checksum) in sorted(files.items()):
        dist = _n(f"{d.base}dumps/{name}")
        holds = formats.describe_file(name)[1]
        d.add(d.dataset, DCAT + "distribution", dist)
        if name.startswith("dataset."):
            d.add(d.dataset, VOID + "dataDump", dist)
        d.add(dist, RDF + "type", _n(DCAT + "Distribution"))
        d.add(dist, DCT + "title", ox.Literal(f"{name}: {holds}", language="en"))
        d.add(dist, DCAT + "downloadURL", dist)
        d.add(dist, DCAT + "accessURL", _n(d.base + "dumps/"))
        inner_type = formats.describe_file(name.removesuffix(".gz"))[0].split(";")[0]
        d.add(dist, DCAT + "mediaType", _n(IANA + inner_type))
        if name.endswith(".gz"):
            d.add(dist, DCAT + "compressFormat", _n(IANA + "application/gzip"))
        _state_size_and_checksum(d, dist, size=size, checksum=checksum)


def _state_plain_dumps(d: _Description, plain_dumps: FileSizes, *, compressed: FileSizes) -> None:
    """A dump's plain name (dataset.ttl) is served decoded or gzip-encoded from its .gz file."""
    for name, (size, checksum) in sorted(plain_dumps.items()):
        if name + ".gz" not in compressed:
            continue  # left out of this build (e.g. RDF/XML that XML cannot carry)
        dist = _n(f"{d.base}dumps/{name}")
        d.add(d.dataset, DCAT + "distribution", dist)
        d.add(d.dataset, VOID + "dataDump", dist)
        d.add(dist, RDF + "type", _n(DCAT + "Distribution"))
        holds = formats.describe_file(name)[1]
        title = f"{name}: {holds} (gzip-encoded for clients that accept it)"
        d.add(dist, DCT + "title", ox.Literal(title, language="en"))
        d.add(dist, DCAT + "downloadURL", dist)
        d.add(dist, DCAT + "accessURL", _n(d.base + "dumps/"))
        d.add(dist, DCAT + "mediaType", _n(IANA + formats.describe_file(name)[0].split(";")[0]))
        # The checksum of the decoded content (what a client holds after reading it).
        _state_size_and_checksum(d, dist, size=size, checksum=checksum)


def _state_size_and_checksum(d: _Description, dist: ox.NamedNode, *, size: int, checksum: str):
    d.add(dist, DCAT + "byteSize", ox.Literal(str(size), datatype=_n(XSD + "nonNegativeInteger")))
    d.add(dist, DCT + "license", _n(d.settings.license))
    d.add(dist, DCT + "modified", d.modified)
    digest = ox.BlankNode()
    d.add(dist, SPDX + "checksum", digest)
    d.add(digest, RDF + "type", _n(SPDX + "Checksum"))
    d.add(digest, SPDX + "algorithm", _n(SPDX + "checksumAlgorithm_sha256"))
    d.add(digest, SPDX + "checksumValue", ox.Literal(checksum, datatype=_n(XSD + "hexBinary")))


def _state_service(d: _Description) -> None:
    service = _n(d.base + "sparql")
    d.add(d.dataset, DCAT + "accessService", service)
    d.add(service, RDF + "type", _n(DCAT + "DataService"))
    d.add(service, RDF + "type", _n(SD + "Service"))
    d.add(service, DCAT + "endpointURL", service)
    d.add(service, SD + "endpoint", service)
    d.add(service, DCAT + "servesDataset", d.dataset)
    d.add(service, DCT + "title", ox.Literal("SPARQL 1.1 endpoint", language="en"))


QPF_SPECIFICATION = "https://linkeddatafragments.org/specification/quad-pattern-fragments/"


def _state_fragments(d: _Description) -> None:
    """The Linked Data Fragments interface (web/fragments.py), as a DCAT data service."""
    fragments = _n(d.base + "fragments")
    d.add(d.dataset, DCAT + "accessService", fragments)
    d.add(d.dataset, VOID + "uriLookupEndpoint", _n(d.base + "fragments?subject="))
    d.add(fragments, RDF + "type", _n(DCAT + "DataService"))
    d.add(fragments, DCAT + "endpointURL", fragments)
    d.add(fragments, DCAT + "servesDataset", d.dataset)
    d.add(fragments, DCT + "conformsTo", _n(QPF_SPECIFICATION))
    d.add(
        fragments,
        DCT + "title",
        ox.Literal("Triple and Quad Pattern Fragments (Linked Data Fragments)", language="en"),
    )
