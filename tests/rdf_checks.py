"""Parse every RDF variant with rdflib (an independent parser) and compare them.

Dataset formats are compared as datasets: each quad (s, p, o, g) is encoded as the triple
(s, p + graph, o), so rdflib.compare.isomorphic (which works on graphs) decides dataset
isomorphism, blank nodes shared across graphs included. Triple formats are compared with
the union of the dataset's graphs.
"""

from __future__ import annotations

import rdflib
from rdflib.compare import isomorphic

# format name of the table -> rdflib parser name
RDFLIB_FORMATS = {
    "turtle": "turtle",
    "jsonld": "json-ld",
    "ntriples": "nt",
    "rdfxml": "xml",
    "nquads": "nquads",
    "trig": "trig",
}
DATASET_FORMATS = {"jsonld", "nquads", "trig"}
DEFAULT_GRAPH = "urn:x-rdflib:default"


def parse(body: bytes, fmt: str, *, base: str) -> rdflib.Dataset:
    dataset = rdflib.Dataset()
    dataset.parse(data=body, format=RDFLIB_FORMATS[fmt], publicID=base)
    return dataset


def quads(dataset: rdflib.Dataset) -> set[tuple]:
    return set(dataset.quads((None, None, None, None)))


def encoded(dataset: rdflib.Dataset) -> rdflib.Graph:
    graph = rdflib.Graph()
    for s, p, o, g in dataset.quads((None, None, None, None)):
        graph.add((s, rdflib.URIRef(f"{p}#in-graph={g}"), o))
    return graph


def union(dataset: rdflib.Dataset) -> rdflib.Graph:
    graph = rdflib.Graph()
    for s, p, o, _g in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


def graph_names(dataset: rdflib.Dataset) -> set[str]:
    return {str(g) for *_spo, g in dataset.quads((None, None, None, None))} - {DEFAULT_GRAPH}


def check_variants(variants: dict[str, bytes], *, base: str) -> rdflib.Dataset:
    """Every variant parses; dataset variants are isomorphic datasets, triple ones the union.

    Returns the N-Quads variant's dataset (the reference).
    """
    parsed = {fmt: parse(body, fmt, base=base) for fmt, body in variants.items()}
    reference = parsed["nquads"]
    reference_union = union(reference)
    for fmt, dataset in parsed.items():
        if fmt in DATASET_FORMATS:
            assert isomorphic(encoded(dataset), encoded(reference)), f"{fmt} differs as a dataset"
        else:
            assert isomorphic(union(dataset), reference_union), f"{fmt} differs from the union"
    return reference
