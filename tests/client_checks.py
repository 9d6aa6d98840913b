"""Shared by the client matrix (tests/test_clients*.py): the reference answers and the resources.

The reference is computed independently of the server: rdflib reads the N-Quads dump of the
build (the whole dataset, graphs included) and answers the matrix's queries with its own
SPARQL engine over the union of the graphs (a set of triples). The data is small, so rdflib's
slowness does not matter here.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.compare import isomorphic, to_isomorphic

# Resources (paths without extension) whose every variant the matrix reads: an event, a place,
# a source document's graph, the curated graph, the dataset description, the ontology, shapes.
DOCUMENTS = (
    "/doc/event/khojaly-massacre",
    "/doc/place/khojaly",
    "/graph/curated",
    "/graph/press-release-2023-02-26",
    "/dataset",
    "/def",
    "/shapes",
)
# extension -> rdflib parser name; the quad formats too: Graph().parse keeps the default graph,
# which is what a client that only knows triples reads.
VARIANTS = {
    "ttl": "turtle",
    "jsonld": "json-ld",
    "nt": "nt",
    "rdf": "xml",
    "nq": "nquads",
    "trig": "trig",
}

# The data's own labels (data/curated.trig): the town of Khojaly in Azerbaijani and Russian.
PLACE_AZ = rdflib.Literal("Xocalı", lang="az")
PLACE_RU = rdflib.Literal("Ходжалы", lang="ru")
PREFIXES = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"


def base_of(dist: Path) -> str:
    return json.loads((dist / "build.json").read_text())["base"]


def reference_dataset(dist: Path) -> rdflib.Dataset:
    dataset = rdflib.Dataset(default_union=True)
    dataset.parse(data=gzip.decompress((dist / "dataset.nq.gz").read_bytes()), format="nquads")
    return dataset


def union_graph(dataset: rdflib.Dataset) -> rdflib.Graph:
    """The union of all graphs as a set of triples (what the default graph must be)."""
    graph = rdflib.Graph()
    for s, p, o, _g in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


def subjects_with(dataset: rdflib.Dataset, label: rdflib.Literal) -> set[str]:
    """The resources the data gives this literal, by rdflib's own SPARQL engine."""
    query = "SELECT DISTINCT ?s WHERE { ?s ?p ?label }"
    rows = dataset.query(query, initBindings={"label": label})
    return {str(row[0]) for row in rows}


def label_select(label: rdflib.Literal) -> str:
    """A SELECT that spells the non-ASCII literal in the query text itself (not a binding)."""
    return f"{PREFIXES}SELECT DISTINCT ?s WHERE {{ ?s ?p {label.n3()} }}"


def same_graph(got: rdflib.Graph, expected: rdflib.Graph) -> bool:
    return isomorphic(got, expected)


def difference(got: rdflib.Graph, expected: rdflib.Graph) -> str:
    """A short account of how two graphs differ, for assertion messages."""
    left, right = to_isomorphic(got), to_isomorphic(expected)
    missing = len(right - left)
    extra = len(left - right)
    return f"{len(got)} triples vs {len(expected)}; {missing} missing, {extra} extra"


def comparable_rows(body: bytes) -> list[str]:
    """A SPARQL JSON answer as a sorted list of rows (a multiset), blank-node labels blanked
    (they differ between engines without meaning anything); ASK as ["True"] or ["False"].
    Parsed by pyoxigraph, so "x" and "x"^^xsd:string compare equal."""
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    if isinstance(parsed, ox.QueryBoolean):
        return [str(bool(parsed))]
    names = [v.value for v in parsed.variables]
    rows = []
    for solution in parsed:
        row = {}
        for name in names:
            term = solution[name]
            if term is not None:
                row[name] = "_:b" if isinstance(term, ox.BlankNode) else str(term)
        rows.append(json.dumps(row, sort_keys=True, ensure_ascii=False))
    return sorted(rows)
