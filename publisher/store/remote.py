"""A remote SPARQL 1.1 store (Oxigraph server, Fuseki, Virtuoso, GraphDB, QLever ...).

The web tier stays stateless: any number of `publisher serve` processes can read one remote
store. Loading uses the SPARQL 1.1 Graph Store Protocol (`publisher load --endpoint URL`).

The SPARQL protocol has no parameter binding, so terms are written into query text only in
their N-Triples form as produced by pyoxigraph (which validates IRIs and escapes literals);
nothing a request supplies is ever spliced in raw.
"""

from __future__ import annotations

import gzip
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from publisher import formats
from publisher.errors import StoreError
from publisher.settings import describe_setting
from publisher.sparql.errors import InvalidQueryRequest, QueryTimedOut, QueryUnavailable
from publisher.sparql.job import QueryAnswer, QueryJob, QueryLimits
from publisher.sparql.serialize import reply_header, serialize_result
from publisher.store.base import LABEL_PREDICATES, MAX_BLANK_NODE_DEPTH, Store

RESULTS_JSON = "application/sparql-results+json"
SPARQL_QUERY = "application/sparql-query"
TIMEOUT_S = 30
# Nodes per labels query: a description links at most a few thousand; the text stays small.
LABELS_BATCH = 1_000


class RemoteStoreError(StoreError):
    """The remote store did not answer as expected."""

    def __init__(self, message: str, *, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status  # the HTTP status it answered, if it answered
        self.detail = detail  # the start of its answer's body


class RemoteQueryTimeout(RemoteStoreError):
    """The remote store did not answer within the time given."""


def _send(
    method: str,
    url: str,
    *,
    data: bytes,
    content_type: str,
    accept: str,
    timeout_s: float = TIMEOUT_S,
) -> tuple[str, bytes]:
    """One HTTP request to the store: (response Content-Type, body); errors as StoreError."""
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": content_type, "Accept": accept}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        detail = error.read()[:500].decode("utf-8", "replace")
        raise RemoteStoreError(
            f"{url} answered {error.code}: {detail}", status=error.code, detail=detail
        ) from error
    except TimeoutError as error:
        raise RemoteQueryTimeout(f"{url} did not answer in {timeout_s} s") from error
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise RemoteQueryTimeout(f"{url} did not answer in {timeout_s} s") from error
        raise RemoteStoreError(f"cannot reach {url}: {error}") from error


def _with_parameters(url: str, parameters: list[tuple[str, str]]) -> str:
    return url + ("?" + urllib.parse.urlencode(parameters) if parameters else "")


class RemoteStore(Store):
    def __init__(self, endpoint: str, *, base: str) -> None:
        self.endpoint = endpoint
        self.base = base

    def _ask(
        self,
        sparql: str,
        *,
        parameters: list[tuple[str, str]] | None = None,
        timeout_s: float = TIMEOUT_S,
    ) -> tuple[str, bytes]:
        return _send(
            "POST",
            _with_parameters(self.endpoint, parameters or []),
            data=sparql.encode("utf-8"),
            content_type=SPARQL_QUERY,
            accept=f"{RESULTS_JSON}, application/n-triples;q=0.9",
            timeout_s=timeout_s,
        )

    def _select(self, sparql: str) -> list[ox.QuerySolution]:
        _, body = self._ask(sparql)
        return list(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))

    def query(self, sparql: str):
        _, body = self._ask(sparql)
        if body.lstrip().startswith(b"{"):
            return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        # CONSTRUCT / DESCRIBE answered in N-Triples.
        return [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
        ]

    def quads(self, subject=None, predicate=None, obj=None, graph=None, *, limit=None):
        if isinstance(subject, ox.BlankNode):
            # Blank-node labels are not stable across remote requests; see _closure.
            return []
        terms = {"s": subject, "p": predicate, "o": obj, "g": graph}
        pattern = " ".join(
            str(t) if t is not None else f"?{n}" for n, t in terms.items() if n != "g"
        )
        graph_term = str(graph) if graph is not None else "?g"
        select = " ".join(f"?{n}" for n, t in terms.items() if t is None) or "*"
        sparql = f"SELECT {select} WHERE {{ GRAPH {graph_term} {{ {pattern} }} }}"
        if limit is not None:
            sparql += f" LIMIT {int(limit)}"
        quads = []
        for row in self._select(sparql):
            s, p, o, g = (terms[n] if terms[n] is not None else row[n] for n in "spog")
            quads.append(ox.Quad(s, p, o, g))
        return quads

    def _closure(self, quads: list[ox.Quad]) -> list[ox.Quad]:
        """Blank nodes reached from the subject, fetched in one query per depth level."""
        if not quads:
            return quads
        subject = quads[0].subject
        result = list(quads)
        chain = f"GRAPH ?g {{ {subject} ?p0 ?b0 . FILTER(isBlank(?b0))"
        for depth in range(MAX_BLANK_NODE_DEPTH - 1):
            sparql = f"SELECT ?s ?p ?o ?g WHERE {{ {chain} BIND(?b{depth} AS ?s) ?s ?p ?o }} }}"
            rows = self._select(sparql)
            if not rows:
                break
            result.extend(ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows)
            chain += f" ?b{depth} ?p{depth + 1} ?b{depth + 1} . FILTER(isBlank(?b{depth + 1}))"
        return result

    def labels(self, nodes: Iterable[ox.NamedNode]) -> list[ox.Quad]:
        """One query for many nodes (VALUES), instead of one per node and label predicate."""
        wanted = list(dict.fromkeys(nodes))
        found: list[ox.Quad] = []
        predicates = " ".join(str(ox.NamedNode(p)) for p in LABEL_PREDICATES)
        for start in range(0, len(wanted), LABELS_BATCH):
            batch = wanted[start : start + LABELS_BATCH]
            sparql = (
                f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {' '.join(map(str, batch))} }} "
                f"VALUES ?p {{ {predicates} }} GRAPH ?g {{ ?s ?p ?o }} }}"
            )
            found += [ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in self._select(sparql)]
        # The order the per-node lookups had: by node, then by label predicate.
        node_rank = {node: rank for rank, node in enumerate(wanted)}
        predicate_rank = {ox.NamedNode(p): rank for rank, p in enumerate(LABEL_PREDICATES)}
        found.sort(key=lambda q: (node_rank[q.subject], predicate_rank[q.predicate]))
        return found

    def graphs(self) -> list[str]:
        rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(r["g"].value for r in rows)

    def run(self, job: QueryJob, limits: QueryLimits) -> QueryAnswer:
        """A public query (already checked by publisher.sparql.safety), answered by the store.

        Mirrors the embedded query worker: the result is re-serialized by the same serializer,
        so formats and limits behave the same; the time limit bounds the wait. A UNION dataset
        sends no dataset: the remote store's own default graph answers, and `publisher load`
        PUTs the deduplicated union of the named graphs there (the dumps carry it as their
        default graph). Naming every graph as a default-graph-uri instead would be a bag on
        Oxigraph 0.5.13 (a triple stated by two graphs counted twice). So the remote store must
        not be run with a union-default-graph option (Oxigraph: no --union-default-graph).
        """
        started = time.perf_counter()
        try:
            content_type, body = self._ask(
                f"BASE <{job.base}>\n{job.query}",
                parameters=job.dataset.protocol_parameters(),
                timeout_s=limits.time_s,
            )
        except RemoteQueryTimeout:
            raise QueryTimedOut(
                f"the remote store did not answer within {limits.time_ms} ms; "
                f"the limit is {describe_setting('sparql_time_limit_ms')} (the remote store "
                "should also stop the query: configure its own timeout)",
                setting="sparql_time_limit_ms",
            ) from None
        except RemoteStoreError as error:
            if error.status == 400:
                raise InvalidQueryRequest(f"query syntax error: {error.detail}") from None
            raise QueryUnavailable(f"the remote store failed: {error}") from None
        if "n-triples" in content_type:
            result = iter(
                ox.Triple(q.subject, q.predicate, q.object)
                for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
            )
        else:
            result = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        fmt = formats.by_name(job.format_name)
        assert fmt is not None, job.format_name
        serialized = serialize_result(
            result, fmt, max_rows=limits.rows, prefixes=job.prefixes, max_bytes=limits.bytes
        )
        header = reply_header(serialized, elapsed_s=time.perf_counter() - started)
        return QueryAnswer.from_header(header, serialized.body)


def push_graphs(dist: Path, *, endpoint: str, replace: bool = True) -> dict[str, int]:
    """Send every graph of a built dist/ to a Graph Store Protocol endpoint.

    PUT replaces a graph (a rebuild republishes cleanly); POST would merge. The dump's default
    graph is the deduplicated union of the named graphs: it becomes the remote default graph,
    which SPARQL queries without a dataset read (see RemoteStore.run).
    """
    dump = dist / formats.dump_name(formats.N_QUADS)
    if not dump.is_file():
        raise StoreError(f"no dump at {dump}: run `publisher build` first")
    by_graph: dict[str, list[ox.Triple]] = {}
    with gzip.open(dump, "rb") as stream:
        for quad in ox.parse(stream, format=ox.RdfFormat.N_QUADS):
            name = quad.graph_name
            key = name.value if isinstance(name, ox.NamedNode) else ""
            by_graph.setdefault(key, []).append(
                ox.Triple(quad.subject, quad.predicate, quad.object)
            )
    counts = {}
    for graph, triples in sorted(by_graph.items()):
        target = endpoint + (
            "?" + urllib.parse.urlencode({"graph": graph}) if graph else "?default"
        )
        _send(
            "PUT" if replace else "POST",
            target,
            data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES),
            content_type="application/n-triples",
            accept="*/*",
        )
        counts[graph] = len(triples)
    return counts
