"""The union default graph, stored: the deduplicated union of all named graphs.

pyoxigraph 0.5.13's ``use_default_graph_as_union`` is a bag (a triple stated by two graphs
comes back twice: COUNT, DESCRIBE, CONSTRUCT; oxigraph#1919). So the build writes the union,
as a set, into the store's default graph (which it never uses otherwise), and queries without
a dataset clause read that default graph. Stores loaded from an N-Quads dump get it the same
way. This module imports only pyoxigraph: the query worker uses it.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox

DEFAULT_GRAPH = ox.DefaultGraph()


def union_quads(store: ox.Store):
    """Every named-graph triple as a default-graph quad (the store deduplicates on insert)."""
    return (
        ox.Quad(q.subject, q.predicate, q.object, DEFAULT_GRAPH)
        for q in store
        if not isinstance(q.graph_name, ox.DefaultGraph)
    )


def has_default_graph(store: ox.Store) -> bool:
    return next(iter(store.quads_for_pattern(None, None, None, DEFAULT_GRAPH)), None) is not None


def store_union_default_graph(store: ox.Store) -> ox.Store:
    """Write the union of the named graphs into the default graph (idempotent)."""
    store.bulk_extend(list(union_quads(store)))
    return store


def ensure_union_default_graph(store: ox.Store) -> ox.Store:
    """For a store loaded from a dump: dumps carry the union, older ones may not."""
    if not has_default_graph(store):
        store_union_default_graph(store)
    return store


def load_dump(path: Path) -> ox.Store:
    """An in-memory store from an N-Quads .gz dump, its default graph holding the union."""
    store = ox.Store()
    with gzip.open(path, "rb") as stream:
        store.bulk_load(stream, format=ox.RdfFormat.N_QUADS)
    return ensure_union_default_graph(store)
