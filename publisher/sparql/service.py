"""The SPARQL 1.1 Service Description of the endpoint (what GET /sparql answers to machines).

Every node is named (fragment IRIs of the endpoint: ``sparql#dataset``, ``sparql#graph-…``)
rather than a blank node, so the description is the same bytes on every request for one build
and settings (`description_version` feeds its ETag), and each node can be referred to.
"""

from __future__ import annotations

import hashlib

import pyoxigraph as ox

from publisher import formats
from publisher.namespaces import STANDARD_PREFIXES
from publisher.settings import Settings

SD = STANDARD_PREFIXES["sd"]
VOID = STANDARD_PREFIXES["void"]
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")


def _sd(local: str) -> ox.NamedNode:
    return ox.NamedNode(SD + local)


def _node(endpoint: str, name: str) -> ox.NamedNode:
    """A stable name for a node of the description (instead of a fresh blank node)."""
    return ox.NamedNode(f"{endpoint}#{name}")


def description_version(settings: Settings) -> str:
    """Changes when the settings the description states change (with the build's ETag, it
    makes the description's validator)."""
    stated = (
        settings.sparql_time_limit_ms,
        settings.sparql_max_rows,
        settings.sparql_max_query_length,
    )
    return hashlib.sha256(repr(stated).encode()).hexdigest()[:8]


def service_description(
    *, endpoint: str, graphs: dict[str, int], settings: Settings
) -> list[ox.Triple]:
    """sd:Service with its endpoint, language, result formats, features and default dataset.

    `graphs` maps each named graph to its number of triples.
    """
    service = ox.NamedNode(endpoint)
    triples = [
        ox.Triple(service, RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), service),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        # The default graph is the union of the named graphs.
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(
            service,
            _sd("defaultEntailmentRegime"),
            ox.NamedNode("http://www.w3.org/ns/entailment/Simple"),
        ),
        ox.Triple(
            service,
            RDFS_COMMENT,
            ox.Literal(
                "Read-only: SPARQL Update, SERVICE, LOAD and FROM outside the dataset are "
                f"refused. Limits: {settings.sparql_time_limit_ms} ms per query "
                f"(sparql_time_limit_ms), {settings.sparql_max_rows} result rows "
                f"(sparql_max_rows), {settings.sparql_max_query_length} characters per query "
                f"(sparql_max_query_length).",
                language="en",
            ),
        ),
    ]
    # Every format of the table the endpoint answers in, by its W3C format IRI.
    for fmt in (*formats.RESULT_FORMATS, *formats.RDF_FORMATS):
        assert fmt.iri is not None, fmt.name
        triples.append(ox.Triple(service, _sd("resultFormat"), ox.NamedNode(fmt.iri)))
    dataset, default_graph = _node(endpoint, "dataset"), _node(endpoint, "default-graph")
    triples += [
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, RDF_TYPE, _sd("Graph")),
    ]
    for graph, size in sorted(graphs.items()):
        key = hashlib.sha256(graph.encode("utf-8")).hexdigest()[:16]
        named, description = _node(endpoint, f"named-graph-{key}"), _node(endpoint, f"graph-{key}")
        triples += [
            ox.Triple(dataset, _sd("namedGraph"), named),
            ox.Triple(named, RDF_TYPE, _sd("NamedGraph")),
            ox.Triple(named, _sd("name"), ox.NamedNode(graph)),
            ox.Triple(named, _sd("graph"), description),
            ox.Triple(description, RDF_TYPE, _sd("Graph")),
            ox.Triple(
                description,
                ox.NamedNode(VOID + "triples"),
                ox.Literal(
                    str(size), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
                ),
            ),
        ]
    return triples
