"""A remote SPARQL 1.1 store (Oxigraph server, Fuseki, Virtuoso, GraphDB, QLever ...).

The web tier stays stateless: any number of `publisher serve` processes can read one remote
store. Loading uses the SPARQL 1.1 Graph Store Protocol (`publisher load --endpoint URL`).
Queries go over kept-alive connections (a small pool per process), so the remote path adds the
publisher's limits and refusals, not a TCP handshake per query.

Virtuoso differs from the SPARQL 1.1 defaults in ways this module hides (detected from its
`Server:` header): its default graph is every graph of the server, its own system graphs
included, as a bag, so the union of the dataset's graphs lives in a named graph of its own
(setting `store_union_graph`) asked for as the default graph, and every other graph is excluded
from `GRAPH ?g` with `define input:named-graph-exclude`; it stops a query at a `timeout`
parameter but then answers 200 with the rows found so far and an `X-SQL-State` header (a
partial answer is refused here, never passed on as complete); it cuts results silently at its
`ResultSetMaxRows` (with an `X-SPARQL-MaxRows` header: refused too); and it writes blank nodes
as `nodeID://b123` in SPARQL JSON, which is not a blank node label (rewritten to `b123`).

The SPARQL protocol has no parameter binding, so terms are written into query text only in
their N-Triples form as produced by pyoxigraph (which validates IRIs and escapes literals);
nothing a request supplies is ever spliced in raw.
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from publisher import formats
from publisher.errors import StoreError
from publisher.settings import describe_setting
from publisher.sparql import lexer
from publisher.sparql.errors import InvalidQueryRequest, QueryTimedOut, QueryUnavailable
from publisher.sparql.job import DatasetKind, QueryAnswer, QueryJob, QueryLimits
from publisher.sparql.serialize import reply_header, serialize_result
from publisher.store.base import LABEL_PREDICATES, MAX_BLANK_NODE_DEPTH, Store

RESULTS_JSON = "application/sparql-results+json"
FORM = "application/x-www-form-urlencoded"
N_TRIPLES = "application/n-triples"
GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")
QUERY_FORMS = ("SELECT", "ASK", *GRAPH_FORMS)
TIMEOUT_S = 30
# Nodes per labels query: a description links at most a few thousand; the text stays small.
LABELS_BATCH = 1_000
# Idle kept-alive connections per process (the web tier runs a few dozen threads at most).
POOL_SIZE = 32
# Triples per Graph Store request of `load` (about 1 MB of N-Triples); see push_graphs.
LOAD_CHUNK_TRIPLES = 5_000
# Virtuoso's "anytime" answer to its `timeout` parameter comes up to a second or two late:
# the socket waits that much longer before it gives up on the store.
TIMEOUT_GRACE_S = 5.0


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
    opener: urllib.request.OpenerDirector | None = None,
) -> tuple[str, bytes]:
    """One HTTP request (used by `load`): (response Content-Type, body); errors as StoreError."""
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": content_type, "Accept": accept}
    )
    open_url = opener.open if opener is not None else urllib.request.urlopen
    try:
        with open_url(request, timeout=timeout_s) as response:
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


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names lowercased
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class _NoDelayHTTPConnection(http.client.HTTPConnection):
    """http.client writes a request's headers and its body in two sends: with Nagle's algorithm
    on, the body waits for the peer's (delayed) ACK of the headers, milliseconds per query."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _NoDelayHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class ConnectionPool:
    """Kept-alive HTTP/1.1 connections to one store, shared by the threads of a process.

    A connection the store closed while it sat idle fails on its next request: that request is
    retried once on a fresh connection (queries and PUTs are idempotent), and the other idle
    connections are dropped (a store's idle timeout closes them all alike: Virtuoso's did, and
    a retry on the next idle one failed as well).
    """

    def __init__(self, url: str, *, size: int = POOL_SIZE) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise StoreError(f"not an http(s) URL: {url!r}")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._size = size
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connect(self, timeout_s: float) -> http.client.HTTPConnection:
        kind = _NoDelayHTTPSConnection if self._https else _NoDelayHTTPConnection
        return kind(self._host, self._port, timeout=timeout_s)

    def request(
        self, method: str, target: str, *, body: bytes, headers: dict[str, str], timeout_s: float
    ) -> Reply:
        for attempt in (0, 1):
            connection = None
            if attempt == 0:
                with self._lock:
                    connection = self._idle.pop() if self._idle else None
            reused = connection is not None
            if connection is None:
                connection = self._connect(timeout_s)
            else:
                connection.timeout = timeout_s
                if connection.sock is not None:
                    connection.sock.settimeout(timeout_s)
            try:
                connection.request(method, target, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                if reused and attempt == 0:
                    self.close()  # the rest of the idle ones are as stale
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            if response.will_close:
                connection.close()
            else:
                with self._lock:
                    if len(self._idle) < self._size:
                        self._idle.append(connection)
                        connection = None
                if connection is not None:
                    connection.close()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


# Virtuoso writes a blank node in SPARQL JSON as "nodeID://b123"; the label is "b123".
_VIRTUOSO_BNODE = b'"type": "bnode", "value": "nodeID://'
_PLAIN_BNODE = b'"type": "bnode", "value": "'


def _query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first such keyword (pragmas and prologue skipped)."""
    for token in lexer.tokens(sparql):
        if token.keyword in QUERY_FORMS:
            return token.keyword
    return "SELECT"


_GRAPH_LETTERS = re.compile("graph", re.IGNORECASE)


def _mentions_graph(sparql: str) -> bool:
    """Whether the keyword GRAPH is in the query (not in a string, an IRI or a comment)."""
    if _GRAPH_LETTERS.search(sparql) is None:
        return False  # most queries: the pre-check's pass over the tokens is the only one
    return any(token.keyword == "GRAPH" for token in lexer.tokens(sparql))


Dataset = tuple[str, list[tuple[str, str]]]  # (query prologue, protocol parameters)
# A graph no store holds: naming it as the only named graph makes the set of named graphs empty.
NO_GRAPH = "urn:publisher:no-graph"


def _pragmas(name: str, graphs: Iterable[str]) -> str:
    return "".join(f"define input:{name} {ox.NamedNode(g)}\n" for g in graphs)


@dataclass(frozen=True)
class _Scope:
    """How this store is asked for the dataset's graphs and nothing else (see module doc).

    On Virtuoso every dataset is given as `define input:...` pragmas: a pragma in the query
    text makes it ignore the protocol's default-graph-uri / named-graph-uri, and
    `named-graph-exclude` also empties a default graph it names, so the union graph is never
    excluded but named graphs are listed when a query can reach them (GRAPH).
    """

    virtuoso: bool
    union_graph: str  # "" = the store's own default graph
    graphs: tuple[str, ...] = ()  # the dataset's named graphs
    hidden: tuple[str, ...] = ()  # every other graph of the store, the union graph included

    def describe_mode(self, query: str) -> str:
        """Virtuoso's DESCRIBE adds statements Oxigraph's does not; its CBD mode gives the same."""
        if self.virtuoso and _query_form(query) == "DESCRIBE":
            return 'define sql:describe-mode "CBD"\n'
        return ""

    def named_only(self) -> Dataset:
        """For the code's own `GRAPH ?g` queries: the dataset's named graphs."""
        if self.virtuoso:
            return _pragmas("named-graph-exclude", self.hidden), []
        if self.union_graph:
            return "", [("named-graph-uri", g) for g in self.graphs]
        return "", []

    def union(self, query: str) -> Dataset:
        """The union default graph, and the dataset's named graphs if GRAPH can reach them."""
        reaches_named = _mentions_graph(query)
        if self.virtuoso:
            named = self.graphs if reaches_named else ()
            return _pragmas("default-graph-uri", [self.union_graph]) + _pragmas(
                "named-graph-uri", named or [NO_GRAPH]
            ), []
        if self.union_graph:
            named = [("named-graph-uri", g) for g in self.graphs] if reaches_named else []
            return "", [("default-graph-uri", self.union_graph), *named]
        return "", []

    def protocol(self, default_graphs: Iterable[str], named_graphs: Iterable[str]) -> Dataset:
        """default-graph-uri / named-graph-uri of the request (graphs of the dataset)."""
        default_graphs, named_graphs = list(default_graphs), list(named_graphs)
        if self.virtuoso:
            return _pragmas("default-graph-uri", default_graphs or [NO_GRAPH]) + _pragmas(
                "named-graph-uri", named_graphs or [NO_GRAPH]
            ), []
        return "", [("default-graph-uri", g) for g in default_graphs] + [
            ("named-graph-uri", g) for g in named_graphs
        ]

    def from_query(self) -> Dataset:
        """The query's own FROM / FROM NAMED; other graphs of the store stay hidden."""
        if self.virtuoso:
            return _pragmas("named-graph-exclude", self.hidden), []
        return "", []


def _pass_through(
    reply: Reply, fmt: formats.Format, limits: QueryLimits, *, virtuoso: bool
) -> tuple[bytes, int] | None:
    """The store's own bytes and their row count, when they are already the answer.

    When the client asked for the format the store answered in (SPARQL JSON, N-Triples) and the
    answer is within the row and byte limits, re-parsing and re-writing it would only add
    latency. JSON is still read (by the C json module) to count its rows; Virtuoso's two
    deviations from SPARQL 1.1 JSON are fixed on the bytes: "typed-literal" is a SPARQL 1.0
    term type, and its "nodeID://" blank node labels are not labels. None: use the serializer.
    """
    content_type = reply.content_type
    body = reply.body
    if fmt is formats.SPARQL_JSON and RESULTS_JSON in content_type:
        if virtuoso:
            body = body.replace(_VIRTUOSO_BNODE, _PLAIN_BNODE).replace(
                b'"type": "typed-literal"', b'"type": "literal"'
            )
        parsed = json.loads(body)
        rows = 1 if "boolean" in parsed else len(parsed["results"]["bindings"])
    elif fmt is formats.N_TRIPLES and N_TRIPLES in content_type:
        # One triple a line (Virtuoso and Oxigraph write N-Triples so); Virtuoso answers an
        # empty graph with the comment "# Empty NT".
        rows = sum(1 for line in body.splitlines() if line.strip() and not line.startswith(b"#"))
    else:
        return None
    if rows > limits.rows or (limits.bytes and len(body) > limits.bytes):
        return None  # the serializer cuts it, and says so
    return body, rows


class RemoteStore(Store):
    def __init__(self, endpoint: str, *, base: str, union_graph: str = "") -> None:
        self.endpoint = endpoint
        self.base = base
        self.union_graph = union_graph
        self._pool = ConnectionPool(endpoint)
        parts = urllib.parse.urlsplit(endpoint)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._scope_lock = threading.Lock()
        self._scope_cache: _Scope | None = None

    # -- HTTP ----------------------------------------------------------------------------------

    def _post(
        self,
        sparql: str,
        parameters: list[tuple[str, str]] | tuple[tuple[str, str], ...],
        *,
        timeout_s: float,
        max_rows: int = 0,
    ) -> Reply:
        """`max_rows`: the rows asked for with Virtuoso's `maxrows` (its cut is then ours)."""
        # Virtuoso answers a CONSTRUCT asked with a results type first in Accept as a result
        # set (s, p, o with a "lang" key): ask each form for its own one format.
        accept = N_TRIPLES if _query_form(sparql) in GRAPH_FORMS else RESULTS_JSON
        # A form POST (the query and its dataset in the body): Virtuoso 7.2 answers a direct
        # POST of application/sparql-query with headers and then never ends the body.
        form = urllib.parse.urlencode([("query", sparql), *parameters])
        try:
            reply = self._pool.request(
                "POST",
                self._path,
                body=form.encode("ascii"),
                headers={
                    "Content-Type": FORM,
                    "Accept": accept,
                },
                timeout_s=timeout_s,
            )
        except TimeoutError as error:
            raise RemoteQueryTimeout(f"{self.endpoint} did not answer in {timeout_s} s") from error
        except OSError as error:
            raise RemoteStoreError(f"cannot reach {self.endpoint}: {error}") from error
        except http.client.HTTPException as error:
            raise RemoteStoreError(f"{self.endpoint} broke the protocol: {error!r}") from error
        if reply.status >= 400:
            detail = reply.body[:500].decode("utf-8", "replace")
            if "S1TAT" in detail:  # Virtuoso: the timeout hit while the answer was streamed
                raise RemoteQueryTimeout(f"{self.endpoint} stopped the query: {detail}")
            raise RemoteStoreError(
                f"{self.endpoint} answered {reply.status}: {detail}",
                status=reply.status,
                detail=detail,
            )
        state = reply.headers.get("x-sql-state")
        if state:  # Virtuoso's "anytime" answer: the rows found before its timeout
            message = reply.headers.get("x-sql-message", "")
            if state == "S1TAT":
                raise RemoteQueryTimeout(f"{self.endpoint} stopped the query: {message}")
            raise RemoteStoreError(f"{self.endpoint} answered incompletely ({state}): {message}")
        cut_at = reply.headers.get("x-sparql-maxrows")
        if cut_at is not None and not (max_rows and cut_at.strip() == str(max_rows)):
            raise RemoteStoreError(
                f"{self.endpoint} cut the answer at its own row limit "
                f"({reply.headers['x-sparql-maxrows']} rows: Virtuoso's [SPARQL] "
                "ResultSetMaxRows); set it above sparql_max_rows so that the endpoint's own "
                "limit is the one that applies, and says so"
            )
        return reply

    def _scope(self) -> _Scope:
        """Found once per store (a new build opens a new store): which graphs are the dataset's."""
        with self._scope_lock:
            if self._scope_cache is None:
                self._scope_cache = self._find_scope()
            return self._scope_cache

    def _find_scope(self) -> _Scope:
        reply = self._post(
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", (), timeout_s=TIMEOUT_S
        )
        virtuoso = "virtuoso" in reply.headers.get("server", "").lower()
        every = [r["g"].value for r in self._parse_solutions(reply.body, virtuoso=virtuoso)]
        if not virtuoso and not self.union_graph:
            # A SPARQL 1.1 store with a separate default graph (Oxigraph server): no dataset
            # parameters at all, the store's default graph is the union `load` wrote.
            return _Scope(False, "")
        if not self.union_graph:
            raise RemoteStoreError(
                f"{self.endpoint} is Virtuoso, whose default graph is every graph of the server "
                "(its own system graphs included): load and serve with the setting "
                f"{describe_setting('store_union_graph')} set, e.g. urn:publisher:union"
            )
        # The dataset's graphs are minted under its base; the store's own (Virtuoso's system
        # graphs) and other datasets' graphs are not.
        ours = sorted(g for g in every if g.startswith(self.base) and g != self.union_graph)
        hidden = sorted({*(g for g in every if g not in ours), self.union_graph})
        return _Scope(virtuoso, self.union_graph, tuple(ours), tuple(hidden))

    @staticmethod
    def _parse_solutions(body: bytes, *, virtuoso: bool) -> ox.QuerySolutions | ox.QueryBoolean:
        if virtuoso:
            body = body.replace(_VIRTUOSO_BNODE, _PLAIN_BNODE)
        return ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)

    def _result(self, reply: Reply, scope: _Scope):
        if "n-triples" in reply.content_type:
            return iter(
                ox.Triple(q.subject, q.predicate, q.object)
                for q in ox.parse(reply.body, format=ox.RdfFormat.N_TRIPLES)
            )
        return self._parse_solutions(reply.body, virtuoso=scope.virtuoso)

    def _ask(self, sparql: str, *, union: bool = False) -> Reply:
        """A trusted query of the code, scoped to the dataset's graphs."""
        scope = self._scope()
        prologue, parameters = scope.union(sparql) if union else scope.named_only()
        return self._post(
            scope.describe_mode(sparql) + prologue + sparql, parameters, timeout_s=TIMEOUT_S
        )

    def _select(self, sparql: str) -> list[ox.QuerySolution]:
        result = self._result(self._ask(sparql), self._scope())
        return list(result)

    # -- the Store interface -------------------------------------------------------------------

    def query(self, sparql: str):
        result = self._result(self._ask(sparql, union=True), self._scope())
        if isinstance(result, ox.QuerySolutions | ox.QueryBoolean):
            return result
        return list(result)  # CONSTRUCT / DESCRIBE answered in N-Triples.

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
        so formats and limits behave the same. A UNION dataset asks for the union default graph
        that `publisher load` wrote: the store's own default graph (the dumps carry the
        deduplicated union there), or the graph named by `store_union_graph`. Naming every
        graph as a default-graph-uri instead would be a bag on Oxigraph 0.5.13 and on Virtuoso
        (a triple stated by two graphs counted twice), so the remote store must not be run with
        a union-default-graph option (Oxigraph: no --union-default-graph).
        The time limit is sent to Virtuoso (its `timeout` parameter: the query is stopped
        there) and bounds the wait for any store.
        """
        started = time.perf_counter()
        try:
            scope = self._scope()
            if job.dataset.kind is DatasetKind.UNION:
                prologue, parameters = scope.union(job.query)
            elif job.dataset.kind is DatasetKind.PROTOCOL:
                prologue, parameters = scope.protocol(
                    job.dataset.default_graphs, job.dataset.named_graphs
                )
            else:
                prologue, parameters = scope.from_query()
            wait_s = limits.time_s
            max_rows = 0
            if scope.virtuoso:
                # Stopped there at the time limit; and one row more than the publisher's cap,
                # which says that the cap cut (as on the embedded store) and spares reading
                # the rest of a huge result.
                max_rows = limits.rows + 1
                parameters += [("timeout", str(limits.time_ms)), ("maxrows", str(max_rows))]
                wait_s += TIMEOUT_GRACE_S
            prologue = scope.describe_mode(job.query) + prologue
            reply = self._post(
                f"{prologue}BASE <{job.base}>\n{job.query}",
                parameters,
                timeout_s=wait_s,
                max_rows=max_rows,
            )
        except RemoteQueryTimeout:
            raise QueryTimedOut(
                f"the remote store did not answer within {limits.time_ms} ms; "
                f"the limit is {describe_setting('sparql_time_limit_ms')} (the remote store "
                "should also stop the query: configure its own timeout)",
                setting="sparql_time_limit_ms",
            ) from None
        except RemoteStoreError as error:
            if time.perf_counter() - started >= limits.time_s:
                # Virtuoso ends some queries stopped at its `timeout` with an error of another
                # kind (ORDER BY: "SR177: Misc Transaction Error"): past the limit, it is the limit.
                raise QueryTimedOut(
                    f"the query ran longer than {limits.time_ms} ms and was stopped by the remote "
                    f"store; the limit is {describe_setting('sparql_time_limit_ms')}",
                    setting="sparql_time_limit_ms",
                ) from None
            if error.status == 400:
                raise InvalidQueryRequest(f"query syntax error: {error.detail}") from None
            if "SQ200" in (error.detail or ""):
                # Virtuoso's "Expression recursion is too deep" (a 500): the query's fault, as
                # the chains sparql_max_operators refuses (from about 1,000 MINUS in a row).
                raise InvalidQueryRequest(
                    f"the remote store cannot run a query this deep: {error.detail}; "
                    f"lower {describe_setting('sparql_max_operators')} to refuse it here",
                    setting="sparql_max_operators",
                ) from None
            raise QueryUnavailable(f"the remote store failed: {error}") from None
        fmt = formats.by_name(job.format_name)
        assert fmt is not None, job.format_name
        try:
            passed = _pass_through(reply, fmt, limits, virtuoso=scope.virtuoso)
            if passed is not None:
                body, rows = passed
                elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
                return QueryAnswer(body=body, rows=rows, elapsed_ms=elapsed_ms)
            result = self._result(reply, scope)
        except (SyntaxError, ValueError) as error:
            raise QueryUnavailable(f"the remote store's answer cannot be read: {error}") from None
        serialized = serialize_result(
            result, fmt, max_rows=limits.rows, prefixes=job.prefixes, max_bytes=limits.bytes
        )
        header = reply_header(serialized, elapsed_s=time.perf_counter() - started)
        return QueryAnswer.from_header(header, serialized.body)

    def close(self) -> None:
        self._pool.close()


def _login(endpoint: str, user: str, password: str) -> urllib.request.OpenerDirector | None:
    """An opener answering the store's Basic or Digest challenge (Virtuoso: Digest)."""
    if not user:
        return None
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, endpoint, user, password)
    return urllib.request.build_opener(
        urllib.request.HTTPDigestAuthHandler(passwords),
        urllib.request.HTTPBasicAuthHandler(passwords),
    )


def push_graphs(
    dist: Path,
    *,
    endpoint: str,
    replace: bool = True,
    union_graph: str = "",
    user: str = "",
    password: str = "",
    chunk_triples: int = LOAD_CHUNK_TRIPLES,
) -> dict[str, int]:
    """Send every graph of a built dist/ to a Graph Store Protocol endpoint.

    PUT replaces a graph (a rebuild republishes cleanly); POST would merge. The dump's default
    graph is the deduplicated union of the named graphs: it becomes the remote default graph
    (`?default`), or the named graph `union_graph` for a store without a separate default
    graph (Virtuoso), which queries then ask for (see RemoteStore.run). `user`/`password`
    answer an authentication challenge (Virtuoso's /sparql-graph-crud-auth).
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
    opener = _login(endpoint, user, password)
    counts = {}
    for graph, triples in sorted(by_graph.items()):
        graph = graph or union_graph
        target = endpoint + (
            "?" + urllib.parse.urlencode({"graph": graph}) if graph else "?default"
        )
        # In parts: the first replaces the graph (PUT), the next ones add to it (POST). A store
        # behind authentication answers 401 to the first, unauthenticated send of each body,
        # and Virtuoso resets the connection while a body of megabytes is still being sent.
        for start in range(0, max(len(triples), 1), chunk_triples):
            part = triples[start : start + chunk_triples]
            _send(
                "PUT" if replace and start == 0 else "POST",
                target,
                data=ox.serialize(part, format=ox.RdfFormat.N_TRIPLES),
                content_type="application/n-triples",
                accept="*/*",
                timeout_s=max(TIMEOUT_S, len(part) / 1_000),
                opener=opener,
            )
        counts[graph] = len(triples)
    return counts
