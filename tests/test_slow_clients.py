"""Slow clients (slowloris) on a real `publisher serve` must not keep others from an answer."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import requests
from support import ServerProcess

SLOW_CLIENTS = 200


def trickle(port: int, count: int, stop: threading.Event, opened: list[socket.socket]) -> None:
    """Open `count` connections that send one more header line each second, never ending."""
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        opened.append(sock)
    while not stop.wait(1.0):
        for sock in opened:
            # Closed by the server's header timeout: allowed.
            with contextlib.suppress(OSError):
                sock.sendall(b"X-Slow: 1\r\n")


def test_slow_clients_do_not_stall_normal_requests(sample_server: ServerProcess) -> None:
    server = sample_server  # the session's server: its slow connections are closed below
    stop, opened = threading.Event(), []
    slow = threading.Thread(target=trickle, args=(server.port, SLOW_CLIENTS, stop, opened))
    try:
        slow.start()
        deadline = time.monotonic() + 30
        while len(opened) < SLOW_CLIENTS and slow.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(opened) == SLOW_CLIENTS
        time.sleep(1.5)  # every slow connection has been accepted and sent more headers
        for path in ("/robots.txt", "/doc/place/khojaly.ttl", "/doc/place/khojaly"):
            started = time.monotonic()
            response = requests.get(server.url + path, timeout=10)
            elapsed = time.monotonic() - started
            assert response.status_code == 200, path
            # An order-of-magnitude bound: under 0.1 s when idle; it stalled for as long as
            # the slow clients lasted with a thread per connection.
            assert elapsed < 3, (path, elapsed)
    finally:
        stop.set()
        slow.join(timeout=10)
        for sock in opened:
            sock.close()
