"""No request ever makes an outbound connection: SERVICE, LOAD, remote FROM, dereferencing.

A TCP listener on 127.0.0.1 counts the connections it receives while every way of asking the
endpoint to reach it is tried; the count must stay zero. The query workers are also checked
on their own (bypassing the refusals), to show that they cannot open a socket at all.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import in_process_app

from publisher.dist import STORE_DIR
from publisher.sparql.job import QueryJob, QueryLimits
from publisher.store.workers import WorkerConfig, WorkerPool, shutdown_all


class Listener:
    """Counts TCP connections to 127.0.0.1:port."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self._running:
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._running = False
        self.thread.join(timeout=5)
        self.socket.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    probe = Listener()
    yield probe
    probe.close()


@pytest.fixture(scope="module")
def client(conformance_dist: Path):
    yield in_process_app(conformance_dist).test_client()
    shutdown_all()


def test_listener_counts_connections(listener: Listener) -> None:
    # The probe itself works: one connection is seen.
    with socket.create_connection(("127.0.0.1", listener.port), timeout=5):
        pass
    deadline = time.monotonic() + 5
    while listener.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listener.connections == 1


def test_no_request_reaches_the_network(client, listener: Listener) -> None:
    remote = f"http://127.0.0.1:{listener.port}"
    refused_queries = {
        f"SELECT * WHERE {{ SERVICE <{remote}/sparql> {{ ?s ?p ?o }} }}": 403,
        f"SELECT * WHERE {{ SERVICE SILENT <{remote}/sparql> {{ ?s ?p ?o }} }}": 403,
        f"select * {{ service # a comment\n <{remote}/sparql> {{ ?s ?p ?o }} }}": 403,
        f"PREFIX r: <{remote}/> SELECT * {{ SERVICE r:sparql {{ ?s ?p ?o }} }}": 403,
        f"SELECT * {{ BIND(<{remote}/sparql> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}": 403,
        f"LOAD <{remote}/data.ttl>": 403,
        f"LOAD SILENT <{remote}/data.ttl> INTO GRAPH <urn:g>": 403,
        f"SELECT * FROM <{remote}/data.ttl> WHERE {{ ?s ?p ?o }}": 400,
        f"SELECT * FROM NAMED <{remote}/data.ttl> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}": 400,
        f"PREFIX r: <{remote}/> ASK FROM r:data.ttl {{ ?s ?p ?o }}": 400,
    }
    for query, status in refused_queries.items():
        for response in (
            client.get("/sparql", query_string={"query": query}),
            client.post("/sparql", data={"query": query}),
            client.post(
                "/sparql", data=query.encode(), headers={"Content-Type": "application/sparql-query"}
            ),
        ):
            assert response.status_code == status, (query, response.data)
            assert response.get_json()["message"]
    for response in (
        client.post("/sparql", data={"update": f"LOAD <{remote}/data.ttl>"}),
        client.post(
            "/sparql",
            data=f"LOAD <{remote}/data.ttl>".encode(),
            headers={"Content-Type": "application/sparql-update"},
        ),
    ):
        assert response.status_code == 403
    # Allowed, and still no connection: IRIs are names, never dereferenced.
    allowed = [
        {"query": f"DESCRIBE <{remote}/thing>"},
        {"query": f"ASK {{ <{remote}/thing> ?p ?o }}"},
        {"query": "ASK { ?s ?p ?o }", "default-graph-uri": f"{remote}/data.ttl"},
        {"query": "ASK { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": f"{remote}/data.ttl"},
    ]
    for params in allowed:
        response = client.get("/sparql", query_string=params)
        assert response.status_code == 200, response.data
    # A protocol graph outside the dataset is an empty graph, not a download.
    response = client.get(
        "/sparql",
        query_string={"query": "ASK { ?s ?p ?o }", "default-graph-uri": f"{remote}/data.ttl"},
    )
    assert response.get_json()["boolean"] is False
    time.sleep(0.3)
    assert listener.connections == 0


def test_workers_cannot_open_sockets_even_if_a_query_slipped_through(
    conformance_dist: Path, listener: Listener
) -> None:
    """The second line of defence: the worker processes run without the right to a socket."""
    pool = WorkerPool(
        WorkerConfig(store_path=conformance_dist / STORE_DIR, memory_limit_mb=2048),
        size=1,
        queue_timeout_s=5,
    )
    try:
        service = (
            f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/sparql> {{ ?s ?p ?o }} }}"
        )
        job = QueryJob(query=service, base="http://www.example/", format_name="json")
        limits = QueryLimits(rows=10, bytes=0, time_ms=10_000)
        reply = pool.run(job, limits)
        assert reply.header["ok"] is False
        assert reply.header["error"] == "evaluation"
        silent = service.replace("SERVICE", "SERVICE SILENT")
        reply = pool.run(QueryJob(query=silent, base=job.base, format_name="json"), limits)
        assert reply.header["ok"] is True  # SILENT: an empty answer, and no connection either
    finally:
        pool.close()
    time.sleep(0.3)
    assert listener.connections == 0
