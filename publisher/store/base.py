"""The store interface the web tier and the CLI use. Two implementations: embedded, remote.

`quads`, `describe` and `labels` serve the pages; `run` answers a public query within its
limits (checked before by ``publisher.sparql.safety``); `query` is for trusted queries of the
code itself (statistics, the CLI) and has no limits.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from publisher.sparql.job import QueryAnswer, QueryJob, QueryLimits
from publisher.store.patterns import Count, Pattern, count_by_query, match_by_query

LABEL_PREDICATES: tuple[str, ...] = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "https://schema.org/name",
    "http://purl.org/dc/terms/title",
    "http://xmlns.com/foaf/0.1/name",
)

# A resource description never grows without bound: a hub with many incoming links is cut.
MAX_INCOMING = 2_000
MAX_BLANK_NODE_DEPTH = 8


@dataclass
class Description:
    """Everything a /doc/ page needs about one IRI, each statement with the graph it came from."""

    iri: str
    outgoing: list[ox.Quad] = field(default_factory=list)  # incl. the blank nodes reached
    incoming: list[ox.Quad] = field(default_factory=list)
    labels: list[ox.Quad] = field(default_factory=list)  # labels of everything linked
    incoming_truncated: bool = False

    @property
    def quads(self) -> list[ox.Quad]:
        seen: dict[ox.Quad, None] = {}
        for quad in (*self.outgoing, *self.incoming, *self.labels):
            seen.setdefault(quad)
        return list(seen)

    def __bool__(self) -> bool:
        return bool(self.outgoing or self.incoming)


class Store(ABC):
    """Read-only access to the published dataset."""

    base: str

    @abstractmethod
    def quads(
        self,
        subject: ox.NamedNode | ox.BlankNode | None = None,
        predicate: ox.NamedNode | None = None,
        obj: ox.NamedNode | ox.BlankNode | ox.Literal | None = None,
        graph: ox.NamedNode | None = None,
        *,
        limit: int | None = None,
    ) -> list[ox.Quad]:
        """Quads matching a pattern across the named graphs."""

    @abstractmethod
    def query(self, sparql: str) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a trusted query of the code (CLI, statistics) on the union default graph."""

    @abstractmethod
    def run(self, job: QueryJob, limits: QueryLimits) -> QueryAnswer:
        """Answer a public query within `limits`; raises ``publisher.sparql.errors``."""

    @abstractmethod
    def graphs(self) -> list[str]:
        """IRIs of the named graphs."""

    def exists(self, iri: str) -> bool:
        node = ox.NamedNode(iri)
        return bool(self.quads(node, limit=1) or self.quads(None, None, node, limit=1))

    def describe(self, iri: str) -> Description:
        """Outgoing statements, the blank nodes they lead to, incoming links, linked labels."""
        node = ox.NamedNode(iri)
        description = Description(iri=iri)
        description.outgoing = self._closure(self.quads(node))
        description.incoming = self.quads(None, None, node, limit=MAX_INCOMING + 1)
        if len(description.incoming) > MAX_INCOMING:
            description.incoming = description.incoming[:MAX_INCOMING]
            description.incoming_truncated = True
        linked = {q.object for q in description.outgoing if isinstance(q.object, ox.NamedNode)}
        linked |= {q.subject for q in description.incoming if isinstance(q.subject, ox.NamedNode)}
        linked |= {q.predicate for q in description.outgoing + description.incoming}
        linked.discard(node)
        description.labels = self.labels(linked)
        return description

    def labels(self, nodes: Iterable[ox.NamedNode]) -> list[ox.Quad]:
        """The label statements of many nodes at once, by node then by LABEL_PREDICATES."""
        return [
            quad
            for node in nodes
            for predicate in LABEL_PREDICATES
            for quad in self.quads(node, ox.NamedNode(predicate))
        ]

    def _closure(self, quads: list[ox.Quad]) -> list[ox.Quad]:
        """Follow blank-node objects (a bounded depth; cycles are cut by `seen`)."""
        result = list(quads)
        frontier = [q.object for q in quads if isinstance(q.object, ox.BlankNode)]
        seen: set[ox.BlankNode] = set()
        for _depth in range(MAX_BLANK_NODE_DEPTH):
            next_frontier = []
            for blank in frontier:
                if blank in seen:
                    continue
                seen.add(blank)
                found = self.quads(blank)
                result.extend(found)
                next_frontier.extend(q.object for q in found if isinstance(q.object, ox.BlankNode))
            if not next_frontier:
                break
            frontier = next_frontier
        return result

    def match(self, pattern: Pattern, *, offset: int = 0, limit: int = 100) -> list[ox.Quad]:
        """One page of the quads matching `pattern` (store/patterns.py says what a graph means)."""
        return match_by_query(self, pattern, offset=offset, limit=limit)

    def count(self, pattern: Pattern, *, scan_limit: int) -> Count:
        """How many quads match; a store that must scan may stop after `scan_limit`."""
        return count_by_query(self, pattern, scan_limit=scan_limit)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (processes, connections)."""
