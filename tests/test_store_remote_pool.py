"""publisher.store.remote.ConnectionPool against a real HTTP/1.1 server that keeps connections
alive and then closes them all while they sit idle, as a store's idle timeout does (Virtuoso's
did, mid-benchmark: the publisher answered 503 "Broken pipe")."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from publisher.store.remote import ConnectionPool

BODY = "Xocalı — Ходжалы\n".encode()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.barrier: threading.Barrier | None = None

    def close_idle_connections(self) -> None:
        """What an idle timeout does: every kept-alive connection closed by the server."""
        with self.lock:
            connections, self.connections = self.connections, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections.append(self.connection)

    def do_GET(self) -> None:
        if self.server.barrier is not None:
            self.server.barrier.wait(timeout=10)  # several connections open at once
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _get(pool: ConnectionPool) -> bytes:
    reply = pool.request("GET", "/sparql", body=b"", headers={}, timeout_s=10)
    assert reply.status == 200
    return reply.body


def test_a_request_after_the_store_closed_every_idle_connection_succeeds(server) -> None:
    pool = ConnectionPool(f"http://127.0.0.1:{server.server_address[1]}/sparql", size=4)
    try:
        # Three requests at once: three kept-alive connections wait in the pool.
        server.barrier = threading.Barrier(3)
        answers: list[bytes] = []
        threads = [threading.Thread(target=lambda: answers.append(_get(pool))) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert answers == [BODY] * 3
        server.barrier = None

        server.close_idle_connections()
        assert _get(pool) == BODY  # the stale one, then a fresh one (not the next stale one)
        assert _get(pool) == BODY  # and the pool goes on
    finally:
        pool.close()
