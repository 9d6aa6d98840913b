"""Which serving stack survives slow clients: normal requests during a slowloris, and req/s.

    .venv/bin/python bench/serving_stacks.py [--dist dist] [--slow 300] [--seconds 10]
                                             [--stacks gthread,gevent,granian]
(granian variants: granian-nolog, granian-threads4, granian-threads64, granian-rt2,
granian-bp32; see GRANIAN_VARIANTS)

For each stack, on a free 127.0.0.1 port (stopped by its pid), with 2 worker processes:
1. `--slow` connections each send the start of a request and then one more header line
   every second, never finishing it (a slowloris), for the whole measurement;
2. meanwhile one client asks for a /doc/ page (Turtle), one request at a time with a 5 s
   timeout, for `--seconds`: success rate, p50 and p99 latency;
3. the slow clients are closed, and 8 keep-alive connections load the same page for
   `--seconds` (req/s without slow clients, as in bench/resources_rps.py).
Loopback only; every loop is bounded in time. gevent is measured only if it is installed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from resources_rps import build_seed, free_port, measure, pick_resource

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
from support import stop_process_group as stop  # noqa: E402

APP = "publisher:create_app()"


def command(stack: str, port: int) -> list[str]:
    bind = ["--bind", f"127.0.0.1:{port}", "--workers", "2"]
    if stack == "gthread":  # what `publisher serve` ran before issue 7
        return [sys.executable, "-m", "gunicorn", *bind, "-k", "gthread", "--threads", "4", APP]
    if stack == "gevent":
        return [sys.executable, "-m", "gunicorn", *bind, "-k", "gevent", APP]
    if stack == "granian" or stack in GRANIAN_VARIANTS:
        return [sys.executable, "-m", "publisher", "serve", "--port", str(port), "--workers", "2"]
    raise SystemExit(f"unknown stack {stack}")


# `publisher serve` (granian) with other settings or granian options (issue 10: measured side
# by side; the slowloris column says whether a variant keeps the slow-client protection).
GRANIAN_VARIANTS: dict[str, dict[str, str]] = {
    "granian-nolog": {"PUBLISHER_ACCESS_LOG": "0"},
    "granian-threads4": {"PUBLISHER_THREADS": "4"},
    "granian-threads64": {"PUBLISHER_THREADS": "64"},
    "granian-rt2": {"GRANIAN_RUNTIME_THREADS": "2"},
    "granian-bp32": {"GRANIAN_BACKPRESSURE": "32"},
}


def start(stack: str, dist: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update({"PUBLISHER_DIST_DIR": str(dist), "PUBLISHER_HOST": "127.0.0.1"})
    env.update(GRANIAN_VARIANTS.get(stack, {}))
    granian = stack.startswith("granian")
    process = subprocess.Popen(
        [*command(stack, port), *(["--dist", str(dist)] if granian else [])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=2)
            return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit(f"{stack} did not start")


class Slowloris:
    """`count` connections that trickle header lines and never end their request."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count = port, count
        self.sockets: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Slowloris:
        for _ in range(self.count):
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
                sock.sendall(b"GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                self.sockets.append(sock)
            except OSError:
                break
        self.thread.start()
        time.sleep(1)  # let the server take every connection in
        return self

    def _run(self) -> None:
        while not self.stopping.wait(1.0):
            for sock in self.sockets:
                # The server may have closed it (a header timeout): that is the defence.
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-Slow: 1\r\n")

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def normal_requests(port: int, path: str, seconds: float) -> dict:
    latencies, failures = [], 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}", headers={"Accept": "text/turtle"}
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                response.read()
            latencies.append(time.perf_counter() - started)
        except OSError:
            failures += 1
        time.sleep(0.05)
    latencies.sort()
    total = len(latencies) + failures
    return {
        "ok": f"{len(latencies)}/{total}",
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path)
    parser.add_argument("--slow", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--stacks", default="gthread,gevent,granian")
    options = parser.parse_args()
    port = free_port()
    dist = options.dist.resolve() if options.dist else build_seed(port)
    load = argparse.Namespace(connections=8, requests=100_000, seconds=options.seconds)
    print(f"{options.slow} slow clients, {options.seconds:g} s per measurement, 2 processes")
    print(f"{'stack':<10} {'ok during slowloris':>20} {'p50 ms':>9} {'p99 ms':>9} {'req/s':>8}")
    for stack in options.stacks.split(","):
        if stack == "gevent":
            try:
                import gevent  # noqa: F401
            except ImportError:
                print(f"{stack:<10} not installed")
                continue
        server = start(stack, dist, port)
        try:
            resource = pick_resource(port)
            with Slowloris(port, options.slow):
                during = normal_requests(port, resource, options.seconds)
            rps = measure(port, resource, "text/turtle", load)["rps"]
        finally:
            stop(server)
        print(
            f"{stack:<10} {during['ok']:>20} {during['p50_ms']:>9.1f} {during['p99_ms']:>9.1f} "
            f"{rps:>8.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
