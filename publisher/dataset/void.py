"""The dataset description (VoID + DCAT) written to dist/void.ttl and served at /dataset.

Statistics come from SPARQL over the built store, so they describe exactly what is published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyoxigraph as ox

from publisher import formats
from publisher.namespaces import STANDARD_PREFIXES, prefixes
from publisher.settings import Settings

if TYPE_CHECKING:
    from publisher.dist import BuildInfo

RDF = STANDARD_PREFIXES["rdf"]
RDFS = STANDARD_PREFIXES["rdfs"]
XSD = STANDARD_PREFIXES["xsd"]
DCT = STANDARD_PREFIXES["dct"]
VOID = STANDARD_PREFIXES["void"]
DCAT = STANDARD_PREFIXES["dcat"]
SPDX = STANDARD_PREFIXES["spdx"]
SD = STANDARD_PREFIXES["sd"]
PROV = STANDARD_PREFIXES["prov"]
FOAF = STANDARD_PREFIXES["foaf"]
IANA = "http://www.iana.org/assignments/media-types/"

EXAMPLE_RESOURCES = 5


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_n(XSD + "integer"))


def _select(store: ox.Store, query: str) -> list[ox.QuerySolution]:
    # The store's default graph holds the union of the named graphs, as a set (store/union.py).
    return list(store.query(query))


def dataset_iri(base: str) -> str:
    return base + "dataset"


def void_description(
    store: ox.Store,
    *,
    settings: Settings,
    info: BuildInfo,
    files: dict[str, tuple[int, str]],
    plain_dumps: dict[str, tuple[int, str]] | None = None,
) -> bytes:
    """VoID + DCAT for the built dataset; `files` maps dist file name -> (bytes, sha256);
    `plain_dumps` maps a dump's plain name (dataset.ttl, served decoded or gzip-encoded from
    the .gz file) -> (bytes, sha256) of the decoded content."""
    base = settings.base_uri
    ds = _n(dataset_iri(base))
    triples: list[ox.Triple] = []

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: ox.NamedNode | ox.BlankNode | ox.Literal):
        triples.append(ox.Triple(s, _n(p), o))

    now = ox.Literal(info.built_at, datatype=_n(XSD + "dateTime"))
    add(ds, RDF + "type", _n(VOID + "Dataset"))
    add(ds, RDF + "type", _n(DCAT + "Dataset"))
    add(ds, DCT + "title", ox.Literal(settings.title, language="en"))
    add(
        ds,
        DCT + "description",
        ox.Literal(
            "What one press release states, as RDF: each source document's statements in its "
            "own named graph with provenance, curated identity data in another, validated "
            "against SHACL shapes.",
            language="en",
        ),
    )
    add(ds, DCT + "license", _n(settings.license))
    add(ds, DCT + "modified", now)
    add(ds, DCT + "issued", now)
    maintainer = _n(base + "dataset#publisher")
    add(ds, DCT + "publisher", maintainer)
    add(maintainer, RDF + "type", _n(FOAF + "Agent"))
    add(maintainer, FOAF + "name", ox.Literal(settings.dataset_publisher))
    add(ds, DCT + "identifier", ox.Literal(info.build_id))
    add(ds, VOID + "uriSpace", ox.Literal(base + "id/"))
    add(ds, VOID + "sparqlEndpoint", _n(base + "sparql"))
    add(ds, VOID + "vocabulary", _n(base + "def/"))
    add(ds, VOID + "rootResource", _n(base))
    add(ds, FOAF + "homepage", _n(base))

    totals = _select(
        store,
        "SELECT (COUNT(*) AS ?quads) (COUNT(DISTINCT ?s) AS ?subjects) "
        "(COUNT(DISTINCT ?p) AS ?properties) (COUNT(DISTINCT ?o) AS ?objects) "
        "WHERE { GRAPH ?g { ?s ?p ?o } }",
    )[0]
    add(ds, VOID + "triples", _int(info.triples))
    add(ds, VOID + "distinctSubjects", _int(int(totals["subjects"].value)))
    add(ds, VOID + "properties", _int(int(totals["properties"].value)))
    add(ds, VOID + "distinctObjects", _int(int(totals["objects"].value)))
    entities = _select(
        store,
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o "
        f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{base}id/")) }}',
    )[0]
    add(ds, VOID + "entities", _int(int(entities["n"].value)))

    def partitions(rows: list[ox.QuerySolution], *, partition: str, by: str, counted: str):
        for row in rows:
            part = ox.BlankNode()
            add(ds, VOID + partition, part)
            add(part, VOID + by, row["x"])
            add(part, VOID + counted, _int(int(row["n"].value)))

    classes = _select(
        store, "SELECT ?x (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?x } GROUP BY ?x ORDER BY ?x"
    )
    add(ds, VOID + "classes", _int(len(classes)))
    partitions(classes, partition="classPartition", by="class", counted="entities")
    properties = _select(
        store,
        # Distinct triples, so the partitions add up to void:triples (a triple may sit in two
        # graphs, e.g. a type stated by a source and by the curated data).
        "SELECT ?x (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s (?p AS ?x) ?o "
        "WHERE { GRAPH ?g { ?s ?p ?o } } } GROUP BY ?x ORDER BY ?x",
    )
    partitions(properties, partition="propertyPartition", by="property", counted="triples")

    graphs = _select(
        store,
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
    )
    for row in graphs:
        graph = row["g"]
        add(ds, VOID + "subset", graph)
        add(graph, RDF + "type", _n(VOID + "Dataset"))
        add(graph, RDF + "type", _n(SD + "NamedGraph"))
        add(graph, SD + "name", graph)
        add(graph, VOID + "triples", _int(int(row["n"].value)))

    examples = _select(
        store,
        f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a ?c }} "
        f'FILTER(STRSTARTS(STR(?s), "{base}id/")) }} ORDER BY ?s LIMIT {EXAMPLE_RESOURCES}',
    )
    for row in examples:
        add(ds, VOID + "exampleResource", row["s"])

    for name, (size, checksum) in sorted(files.items()):
        dist = _n(f"{base}dumps/{name}")
        holds = formats.describe_file(name)[1]
        add(ds, DCAT + "distribution", dist)
        if name.startswith("dataset."):
            add(ds, VOID + "dataDump", dist)
        add(dist, RDF + "type", _n(DCAT + "Distribution"))
        add(dist, DCT + "title", ox.Literal(f"{name}: {holds}", language="en"))
        add(dist, DCAT + "downloadURL", dist)
        add(dist, DCAT + "accessURL", _n(base + "dumps/"))
        inner_type = formats.describe_file(name.removesuffix(".gz"))[0].split(";")[0]
        add(dist, DCAT + "mediaType", _n(IANA + inner_type))
        if name.endswith(".gz"):
            add(dist, DCAT + "compressFormat", _n(IANA + "application/gzip"))
        add(dist, DCAT + "byteSize", ox.Literal(str(size), datatype=_n(XSD + "nonNegativeInteger")))
        add(dist, DCT + "license", _n(settings.license))
        add(dist, DCT + "modified", now)
        digest = ox.BlankNode()
        add(dist, SPDX + "checksum", digest)
        add(digest, RDF + "type", _n(SPDX + "Checksum"))
        add(digest, SPDX + "algorithm", _n(SPDX + "checksumAlgorithm_sha256"))
        add(digest, SPDX + "checksumValue", ox.Literal(checksum, datatype=_n(XSD + "hexBinary")))

    for name, (size, checksum) in sorted((plain_dumps or {}).items()):
        if name + ".gz" not in files:
            continue  # left out of this build (e.g. RDF/XML that XML cannot carry)
        dist = _n(f"{base}dumps/{name}")
        add(ds, DCAT + "distribution", dist)
        add(ds, VOID + "dataDump", dist)
        add(dist, RDF + "type", _n(DCAT + "Distribution"))
        holds = formats.describe_file(name)[1]
        add(
            dist,
            DCT + "title",
            ox.Literal(f"{name}: {holds} (gzip-encoded for clients that accept it)", language="en"),
        )
        add(dist, DCAT + "downloadURL", dist)
        add(dist, DCAT + "accessURL", _n(base + "dumps/"))
        add(dist, DCAT + "mediaType", _n(IANA + formats.describe_file(name)[0].split(";")[0]))
        add(dist, DCAT + "byteSize", ox.Literal(str(size), datatype=_n(XSD + "nonNegativeInteger")))
        add(dist, DCT + "license", _n(settings.license))
        add(dist, DCT + "modified", now)
        # The checksum of the decoded content (what a client holds after reading it).
        digest = ox.BlankNode()
        add(dist, SPDX + "checksum", digest)
        add(digest, RDF + "type", _n(SPDX + "Checksum"))
        add(digest, SPDX + "algorithm", _n(SPDX + "checksumAlgorithm_sha256"))
        add(digest, SPDX + "checksumValue", ox.Literal(checksum, datatype=_n(XSD + "hexBinary")))

    service = _n(base + "sparql")
    add(ds, DCAT + "accessService", service)
    add(service, RDF + "type", _n(DCAT + "DataService"))
    add(service, RDF + "type", _n(SD + "Service"))
    add(service, DCAT + "endpointURL", service)
    add(service, SD + "endpoint", service)
    add(service, DCAT + "servesDataset", ds)
    add(service, DCT + "title", ox.Literal("SPARQL 1.1 endpoint", language="en"))
    # Grouped by subject (in order of first mention) so each reads as one Turtle block.
    order = {s: i for i, s in reversed(list(enumerate(t.subject for t in triples)))}
    triples.sort(key=lambda t: order[t.subject])
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes(base))
