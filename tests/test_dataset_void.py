"""publisher.dataset.void: the VoID/DCAT statistics of a small dataset whose numbers are known."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib

from publisher.dataset.void import void_description
from publisher.dist import BuildInfo
from publisher.settings import load_settings
from publisher.store.union import store_union_default_graph

BASE = "http://example.org/kg/"
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
DCT = rdflib.DCTERMS

# Two graphs, six quads, five distinct triples: graph/b repeats "x a Place" from graph/a.
TRIG = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<graph/a> { <id/x> a <def/Place> ; rdfs:label "X" . <id/y> a <def/Place> . }
<graph/b> { <id/x> a <def/Place> ; <def/near> <id/y> . <http://other.example/z> a <def/Thing> . }
"""
GZ_SUM, PLAIN_SUM = "ab" * 32, "cd" * 32


@pytest.fixture(scope="module")
def described() -> rdflib.Graph:
    store = ox.Store()
    store.load(TRIG.encode(), format=ox.RdfFormat.TRIG, base_iri=BASE)
    quads = len(store)
    store_union_default_graph(store)
    settings = load_settings(
        {"base_uri": BASE, "title": "A small test set", "description": "Five triples."},
        environ={},
    )
    info = BuildInfo("id-1", "2023-11-14T22:13:20Z", BASE, quads, len(store) - quads, 2)
    body = void_description(
        store,
        settings=settings,
        info=info,
        files={"dataset.nq.gz": (123, GZ_SUM), "ontology.ttl": (45, "ef" * 32)},
        plain_dumps={"dataset.nq": (999, PLAIN_SUM), "dataset.rdf": (7, "00" * 32)},
    )
    return rdflib.Graph().parse(data=body, format="turtle")


DATASET = rdflib.URIRef(BASE + "dataset")


def number(graph: rdflib.Graph, subject, predicate) -> int:
    return int(graph.value(subject, predicate))


def test_title_and_description_come_from_the_settings(described: rdflib.Graph) -> None:
    assert described.value(DATASET, DCT.title) == rdflib.Literal("A small test set", lang="en")
    assert described.value(DATASET, DCT.description) == rdflib.Literal("Five triples.", lang="en")
    assert str(described.value(DATASET, DCT.identifier)) == "id-1"


def test_totals_count_distinct_triples_subjects_properties_objects_entities(
    described: rdflib.Graph,
) -> None:
    counts = {
        name: number(described, DATASET, VOID[name])
        for name in ("triples", "distinctSubjects", "properties", "distinctObjects", "entities")
    }
    # Entities are the subjects under the base's id/ (x and y; z is someone else's).
    assert counts == {
        "triples": 5,
        "distinctSubjects": 3,
        "properties": 3,
        "distinctObjects": 4,
        "entities": 2,
    }


def test_class_and_property_partitions(described: rdflib.Graph) -> None:
    classes = {
        str(described.value(p, VOID["class"])): number(described, p, VOID.entities)
        for p in described.objects(DATASET, VOID.classPartition)
    }
    assert classes == {BASE + "def/Place": 2, BASE + "def/Thing": 1}
    assert number(described, DATASET, VOID.classes) == 2
    properties = {
        str(described.value(p, VOID.property)): number(described, p, VOID.triples)
        for p in described.objects(DATASET, VOID.propertyPartition)
    }
    assert properties == {
        str(rdflib.RDF.type): 3,  # the type stated in both graphs counts once
        str(rdflib.RDFS.label): 1,
        BASE + "def/near": 1,
    }


def test_each_named_graph_is_a_subset_with_its_own_count(described: rdflib.Graph) -> None:
    subsets = {
        str(g): number(described, g, VOID.triples) for g in described.objects(DATASET, VOID.subset)
    }
    assert subsets == {BASE + "graph/a": 3, BASE + "graph/b": 3}
    examples = {str(r) for r in described.objects(DATASET, VOID.exampleResource)}
    assert examples == {BASE + "id/x", BASE + "id/y"}


def test_every_file_and_plain_dump_is_a_distribution_with_size_and_checksum(
    described: rdflib.Graph,
) -> None:
    def size_and_sum(name: str) -> tuple[int, str]:
        dist = rdflib.URIRef(f"{BASE}dumps/{name}")
        checksum = described.value(described.value(dist, SPDX.checksum), SPDX.checksumValue)
        return number(described, dist, DCAT.byteSize), str(checksum)

    distributions = {str(d) for d in described.objects(DATASET, DCAT.distribution)}
    # dataset.rdf has no dataset.rdf.gz in this build: it is left out.
    assert distributions == {
        f"{BASE}dumps/{name}" for name in ("dataset.nq.gz", "ontology.ttl", "dataset.nq")
    }
    assert size_and_sum("dataset.nq.gz") == (123, GZ_SUM)
    assert size_and_sum("dataset.nq") == (999, PLAIN_SUM)  # of the decoded content
    dumps = {str(d) for d in described.objects(DATASET, VOID.dataDump)}
    assert dumps == {f"{BASE}dumps/dataset.nq.gz", f"{BASE}dumps/dataset.nq"}
    gz = rdflib.URIRef(f"{BASE}dumps/dataset.nq.gz")
    assert str(described.value(gz, DCAT.compressFormat)).endswith("application/gzip")
    assert str(described.value(gz, DCAT.mediaType)).endswith("application/n-quads")


def test_the_sparql_service_and_the_fragments_serve_the_dataset(described: rdflib.Graph) -> None:
    services = set(described.objects(DATASET, DCAT.accessService))
    assert services == {rdflib.URIRef(BASE + "sparql"), rdflib.URIRef(BASE + "fragments")}
    for service in services:
        assert described.value(service, DCAT.servesDataset) == DATASET
        assert described.value(service, DCAT.endpointURL) == service
    fragments = rdflib.URIRef(BASE + "fragments")
    assert (fragments, rdflib.URIRef("http://purl.org/dc/terms/conformsTo"), None) in described
    lookup = rdflib.URIRef("http://rdfs.org/ns/void#uriLookupEndpoint")
    assert described.value(DATASET, lookup) == rdflib.URIRef(BASE + "fragments?subject=")
