"""Triple and quad patterns over the published dataset, a page at a time (for /fragments).

A pattern's graph is one of three things: the default graph (the union of the named graphs,
as a set: what /sparql queries without GRAPH see), one named graph, or every graph (the
default graph and each named graph: the Quad Pattern Fragments reading of an unbound graph). The
generic implementation asks the store in SPARQL (so a remote store answers it too); the
embedded store reads its indexes directly (store/embedded.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

if TYPE_CHECKING:
    from publisher.store.base import Store

Subject = ox.NamedNode | ox.BlankNode
Object = ox.NamedNode | ox.BlankNode | ox.Literal
# None: every graph (the QPF reading of an unbound graph): the default graph, which holds the
# union of the named graphs, and each named graph.
GraphChoice = ox.NamedNode | ox.DefaultGraph | None


@dataclass(frozen=True)
class Pattern:
    """A quad pattern: None in a position is a variable."""

    subject: Subject | None = None
    predicate: ox.NamedNode | None = None
    object: Object | None = None
    graph: GraphChoice = None

    @property
    def has_blank_node(self) -> bool:
        return isinstance(self.subject, ox.BlankNode) or isinstance(self.object, ox.BlankNode)


@dataclass(frozen=True)
class Count:
    """How many quads match: exact, or (when counting would scan too much) at least `value`."""

    value: int
    exact: bool


def _sparql_pattern(pattern: Pattern) -> tuple[str, list[str]]:
    """The pattern as a SPARQL group and the variables it binds. Terms appear only in their
    N-Triples form as written by pyoxigraph, which validated them; nothing is spliced raw."""
    names = {"s": pattern.subject, "p": pattern.predicate, "o": pattern.object}
    triple = " ".join(str(term) if term is not None else f"?{name}" for name, term in names.items())
    variables = [f"?{name}" for name, term in names.items() if term is None]
    if isinstance(pattern.graph, ox.DefaultGraph):
        return f"{{ {triple} }}", variables
    if pattern.graph is None:
        return f"{{ {{ {triple} }} UNION {{ GRAPH ?g {{ {triple} }} }} }}", [*variables, "?g"]
    return f"{{ GRAPH {pattern.graph} {{ {triple} }} }}", variables


def _graph_of(pattern: Pattern, row: ox.QuerySolution) -> ox.NamedNode | ox.DefaultGraph:
    if isinstance(pattern.graph, ox.DefaultGraph):
        return ox.DefaultGraph()
    if pattern.graph is not None:
        return pattern.graph
    return row["g"] if row["g"] is not None else ox.DefaultGraph()


def match_by_query(store: Store, pattern: Pattern, *, offset: int, limit: int) -> list[ox.Quad]:
    """One page of matches, in the engine's order (stable for an immutable build)."""
    if pattern.has_blank_node:
        # Blank-node labels are not stable across requests to a remote engine.
        return []
    group, variables = _sparql_pattern(pattern)
    select = " ".join(variables) or "*"
    sparql = f"SELECT {select} WHERE {group} OFFSET {int(offset)} LIMIT {int(limit)}"
    quads = []
    for row in store.query(sparql):
        quads.append(
            ox.Quad(
                pattern.subject if pattern.subject is not None else row["s"],
                pattern.predicate if pattern.predicate is not None else row["p"],
                pattern.object if pattern.object is not None else row["o"],
                _graph_of(pattern, row),
            )
        )
    return quads


def count_by_query(store: Store, pattern: Pattern, *, scan_limit: int) -> Count:
    """COUNT over a LIMIT-ed subquery: the engine never counts past `scan_limit` + 1."""
    if pattern.has_blank_node:
        return Count(0, exact=True)
    group, variables = _sparql_pattern(pattern)
    select = " ".join(variables) or "*"
    inner = f"SELECT {select} WHERE {group} LIMIT {int(scan_limit) + 1}"
    rows = list(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {inner} }}"))
    seen = int(rows[0]["n"].value) if rows else 0
    return Count(min(seen, scan_limit), exact=seen <= scan_limit)
