"""Embedded Oxigraph: the built on-disk store opened read-only, or the dump loaded into memory."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from itertools import islice
from pathlib import Path

import pyoxigraph as ox

from publisher import formats
from publisher.dist import STORE_DIR
from publisher.errors import BuildError
from publisher.store.base import Store
from publisher.store.union import ensure_union_default_graph


def open_oxigraph(dist: Path, *, mode: str) -> ox.Store:
    """`disk`: dist/store read-only (many processes may open it); `memory`: load the N-Quads dump."""
    if mode == "disk":
        path = dist / STORE_DIR
        if not path.is_dir():
            raise BuildError(f"no store at {path}: run `publisher build` first (setting dist_dir)")
        return ox.Store.read_only(str(path))
    if mode == "memory":
        dump = dist / formats.dump_name(formats.N_QUADS)
        if not dump.is_file():
            raise BuildError(f"no dump at {dump}: run `publisher build` first (setting dist_dir)")
        store = ox.Store()
        with gzip.open(dump, "rb") as stream:
            store.bulk_load(stream, format=ox.RdfFormat.N_QUADS)
        return ensure_union_default_graph(store)
    raise BuildError(f"unknown store mode {mode!r} (setting store: disk, memory or a URL)")


class EmbeddedStore(Store):
    def __init__(self, oxigraph: ox.Store, *, base: str) -> None:
        self.oxigraph = oxigraph
        self.base = base

    @classmethod
    def open(cls, dist: Path, *, base: str, mode: str = "disk") -> EmbeddedStore:
        return cls(open_oxigraph(dist, mode=mode), base=base)

    def quads(self, subject=None, predicate=None, obj=None, graph=None, *, limit=None):
        # Only named graphs: the default graph holds their union (store/union.py).
        found = (
            q
            for q in self.oxigraph.quads_for_pattern(subject, predicate, obj, graph)
            if not isinstance(q.graph_name, ox.DefaultGraph)
        )
        return list(islice(found, limit) if limit is not None else found)

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ):
        options: dict[str, object] = {"base_iri": self.base}
        # Without default_graphs the store's own default graph answers: the build wrote the
        # union of the named graphs there as a set (use_default_graph_as_union is a bag).
        if default_graphs is not None:
            options["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
        if named_graphs is not None:
            options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        return self.oxigraph.query(sparql, **options)

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self.oxigraph.named_graphs() if isinstance(g, ox.NamedNode))
