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
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from publisher import formats
from publisher.errors import BuildError
from publisher.sparql.serialize import reply_header, serialize_result
from publisher.store.base import MAX_BLANK_NODE_DEPTH, Store

RESULTS_JSON = "application/sparql-results+json"
TIMEOUT_S = 30


class RemoteStoreError(BuildError):
    """The remote store did not answer as expected."""


def _post(url: str, *, data: bytes, content_type: str, accept: str, method: str = "POST") -> bytes:
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": content_type, "Accept": accept}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        detail = error.read()[:500].decode("utf-8", "replace")
        raise RemoteStoreError(f"{url} answered {error.code}: {detail}") from error
    except (urllib.error.URLError, TimeoutError) as error:
        raise RemoteStoreError(f"cannot reach {url}: {error}") from error


class RemoteStore(Store):
    def __init__(self, endpoint: str, *, base: str) -> None:
        self.endpoint = endpoint
        self.base = base

    def _select(self, sparql: str) -> list[ox.QuerySolution]:
        body = _post(
            self.endpoint,
            data=sparql.encode("utf-8"),
            content_type="application/sparql-query",
            accept=RESULTS_JSON,
        )
        return list(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ):
        params = [("default-graph-uri", g) for g in default_graphs or ()]
        params += [("named-graph-uri", g) for g in named_graphs or ()]
        url = self.endpoint + ("?" + urllib.parse.urlencode(params) if params else "")
        body = _post(
            url,
            data=sparql.encode("utf-8"),
            content_type="application/sparql-query",
            accept=f"{RESULTS_JSON}, application/n-triples;q=0.9",
        )
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

    def graphs(self) -> list[str]:
        rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return sorted(r["g"].value for r in rows)


class RemoteQueryTimeout(RemoteStoreError):
    """The remote endpoint did not answer within the query time limit."""


def run_remote_job(
    endpoint: str, job: dict, *, all_graphs: Sequence[str], time_limit_s: float
) -> tuple[dict, bytes]:
    """Run a /sparql job (already checked by publisher.sparql.safety) on the remote store.

    Mirrors the embedded query worker: the same job in, the same (header, body) out, the
    result re-serialized by the same serializer so formats and row limits behave the same.
    A "union" job sends no dataset: the remote store's own default graph answers, and
    `publisher load` PUTs the deduplicated union of the named graphs there (the dumps carry it
    as their default graph). Naming every graph as a default-graph-uri instead would be a bag
    on Oxigraph 0.5.13 (a triple stated by two graphs counted twice). So the remote store must
    not be run with a union-default-graph option (Oxigraph: no --union-default-graph).
    """
    del all_graphs  # kept in the signature for callers; the union is the remote default graph
    params: list[tuple[str, str]] = []
    if job.get("default_graphs") is not None:
        params += [("default-graph-uri", g) for g in job["default_graphs"]]
    if job.get("named_graphs") is not None:
        params += [("named-graph-uri", g) for g in job["named_graphs"]]
    query = f"BASE <{job['base_iri']}>\n{job['query']}"
    url = endpoint + ("?" + urllib.parse.urlencode(params) if params else "")
    request = urllib.request.Request(
        url,
        data=query.encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/sparql-query",
            "Accept": f"{RESULTS_JSON}, application/n-triples;q=0.9",
        },
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=time_limit_s) as response:
            content_type = response.headers.get("Content-Type", "")
            body = response.read()
    except urllib.error.HTTPError as error:
        detail = error.read()[:500].decode("utf-8", "replace")
        if error.code == 400:
            return {"ok": False, "error": "syntax", "message": detail}, b""
        raise RemoteStoreError(f"{endpoint} answered {error.code}: {detail}") from error
    except TimeoutError as error:
        raise RemoteQueryTimeout(f"{endpoint} did not answer in {time_limit_s} s") from error
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise RemoteQueryTimeout(f"{endpoint} did not answer in {time_limit_s} s") from error
        raise RemoteStoreError(f"cannot reach {endpoint}: {error}") from error
    if "n-triples" in content_type:
        result = iter(
            ox.Triple(q.subject, q.predicate, q.object)
            for q in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
        )
    else:
        result = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    fmt = formats.by_name(job["format"])
    assert fmt is not None, job["format"]
    serialized = serialize_result(
        result, fmt, max_rows=job["max_rows"], prefixes=job.get("prefixes") or {}
    )
    header = reply_header(serialized, elapsed_s=time.perf_counter() - started)
    return header, serialized.body


def push_graphs(dist: Path, *, endpoint: str, replace: bool = True) -> dict[str, int]:
    """Send every graph of a built dist/ to a Graph Store Protocol endpoint.

    PUT replaces a graph (a rebuild republishes cleanly); POST would merge. The dump's default
    graph is the deduplicated union of the named graphs: it becomes the remote default graph,
    which SPARQL queries without a dataset read (see run_remote_job).
    """
    dump = dist / formats.dump_name(formats.N_QUADS)
    if not dump.is_file():
        raise BuildError(f"no dump at {dump}: run `publisher build` first")
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
        _post(
            target,
            data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES),
            content_type="application/n-triples",
            accept="*/*",
            method="PUT" if replace else "POST",
        )
        counts[graph] = len(triples)
    return counts
