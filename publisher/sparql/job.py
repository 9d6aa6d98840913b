"""A checked query ready to run: `QueryJob` (what to run), `QueryLimits` (how far it may go).

Both cross a process boundary (the query workers) as the JSON header of a frame; `to_frame`
and `from_frame` are the only encoding. The store that runs a job reads the dataset from
`QueryDataset`, so the rules for which graphs a query sees are written once, here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

import pyoxigraph as ox


class DatasetKind(Enum):
    UNION = "union"  # the default graph is the union of all named graphs (the usual case)
    PROTOCOL = "protocol"  # default-graph-uri / named-graph-uri given: they replace FROM
    QUERY = "query"  # the query's own FROM / FROM NAMED (checked to be graphs of the dataset)


@dataclass(frozen=True)
class QueryDataset:
    """Which graphs the query sees."""

    kind: DatasetKind = DatasetKind.UNION
    default_graphs: tuple[str, ...] = ()  # PROTOCOL only
    named_graphs: tuple[str, ...] = ()  # PROTOCOL only

    @classmethod
    def union(cls) -> QueryDataset:
        return cls(DatasetKind.UNION)

    @classmethod
    def protocol(
        cls, default_graphs: tuple[str, ...], named_graphs: tuple[str, ...]
    ) -> QueryDataset:
        """Graph IRIs that are not in the dataset are empty graphs: nothing is ever fetched."""
        return cls(DatasetKind.PROTOCOL, tuple(default_graphs), tuple(named_graphs))

    @classmethod
    def from_query(cls) -> QueryDataset:
        return cls(DatasetKind.QUERY)

    def oxigraph_options(self) -> dict[str, list[ox.NamedNode]]:
        """Keyword arguments of ``pyoxigraph.Store.query``.

        UNION passes none: the store's own default graph answers, where the build wrote the
        union of the named graphs as a set (pyoxigraph's use_default_graph_as_union is a bag,
        oxigraph#1919). QUERY passes none either: the query's FROM clauses apply.
        """
        if self.kind is not DatasetKind.PROTOCOL:
            return {}
        return {
            "default_graph": [ox.NamedNode(g) for g in self.default_graphs],
            "named_graphs": [ox.NamedNode(g) for g in self.named_graphs],
        }

    def protocol_parameters(self) -> list[tuple[str, str]]:
        """The SPARQL Protocol parameters that ask a remote store for the same dataset."""
        return [("default-graph-uri", g) for g in self.default_graphs] + [
            ("named-graph-uri", g) for g in self.named_graphs
        ]


@dataclass(frozen=True)
class QueryLimits:
    rows: int  # sparql_max_rows: results beyond are cut (and the cut is said)
    bytes: int  # sparql_max_response_bytes (0: none)
    time_ms: int  # sparql_time_limit_ms: the query is stopped

    @property
    def time_s(self) -> float:
        return self.time_ms / 1000

    def with_time_at_most(self, time_ms: int) -> QueryLimits:
        return replace(self, time_ms=min(self.time_ms, time_ms))


@dataclass(frozen=True)
class QueryJob:
    query: str
    base: str  # relative IRIs in the query resolve against it
    format_name: str  # a name of the format table (publisher.formats)
    dataset: QueryDataset = field(default_factory=QueryDataset.union)
    prefixes: dict[str, str] = field(default_factory=dict)  # for RDF results

    def to_frame(self, limits: QueryLimits) -> dict[str, Any]:
        return {
            "query": self.query,
            "base": self.base,
            "format": self.format_name,
            "prefixes": self.prefixes,
            "dataset": {
                "kind": self.dataset.kind.value,
                "default_graphs": list(self.dataset.default_graphs),
                "named_graphs": list(self.dataset.named_graphs),
            },
            "limits": {"rows": limits.rows, "bytes": limits.bytes, "time_ms": limits.time_ms},
        }

    @classmethod
    def from_frame(cls, header: dict[str, Any]) -> tuple[QueryJob, QueryLimits]:
        dataset = header["dataset"]
        job = cls(
            query=header["query"],
            base=header["base"],
            format_name=header["format"],
            dataset=QueryDataset(
                DatasetKind(dataset["kind"]),
                tuple(dataset["default_graphs"]),
                tuple(dataset["named_graphs"]),
            ),
            prefixes=dict(header["prefixes"]),
        )
        return job, QueryLimits(**header["limits"])


@dataclass(frozen=True)
class QueryAnswer:
    """A query's serialized result and what the caller reports about it."""

    body: bytes
    rows: int  # solutions or triples written (1 for a boolean)
    truncated: bool = False
    cut_by: str | None = None  # "rows" or "bytes" when truncated
    elapsed_ms: float | None = None

    @classmethod
    def from_header(cls, header: dict[str, Any], body: bytes) -> QueryAnswer:
        """From ``publisher.sparql.serialize.reply_header`` and the bytes it describes."""
        return cls(
            body=body,
            rows=int(header["rows"]),
            truncated=bool(header.get("truncated")),
            cut_by=header.get("cut_by"),
            elapsed_ms=header.get("elapsed_ms"),
        )
