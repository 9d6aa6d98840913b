"""Requests per second for /doc/ resources (Turtle, HTML) under `publisher serve`, with a baseline.

    .venv/bin/python bench/resources_rps.py [--dist dist] [--workers 2] [--connections 8]
                                            [--requests 4000] [--seconds 10]

Starts `publisher serve --workers N` on a free 127.0.0.1 port (stopped by its pid), then a
second process drives load: `--connections` threads, each with one keep-alive http.client
connection, until `--requests` are done or `--seconds` pass, whichever comes first. The same
run measures the static /robots.txt as the baseline (the cost of the stack itself), the
Turtle and HTML descriptions with the per-process render cache on (the default), and again
with it off (PUBLISHER_RESOURCE_CACHE_ENTRIES=0: describe + serialize on every request).
Python alone; no wrk needed. The load generator shares the machine's cores with the server,
so the figures are a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
from support import ServerProcess  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_seed(port: int) -> Path:
    out = Path(tempfile.mkdtemp(prefix="rps-")) / "dist"
    command = [sys.executable, "-m", "publisher", "build", "--out", str(out)]
    command += ["--base", f"http://127.0.0.1:{port}/"]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return out


def pick_resource(port: int) -> str:
    """The first thing the sitemap lists: a real /doc/ page of the dataset."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sitemap.xml", timeout=10) as response:
        text = response.read().decode("utf-8")
    for chunk in text.split("<loc>")[1:]:
        url = chunk.split("</loc>")[0]
        if "/doc/" in url:
            return "/doc/" + url.split("/doc/", 1)[1]
    sys.exit("no /doc/ page in the sitemap")


# -- the load generator (runs in its own process) ------------------------------------------
def _load(port: int, path: str, accept: str, connections: int, total: int, seconds: float, out):
    lock = threading.Lock()
    issued = 0
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    def worker() -> None:
        nonlocal issued, errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while True:
            with lock:
                if issued >= total or time.monotonic() >= deadline:
                    break
                issued += 1
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Accept": accept})
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - started)
            if not ok:
                with lock:
                    errors += 1
        connection.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    out.put(
        {
            "requests": len(latencies),
            "errors": errors,
            "seconds": elapsed,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
            "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0,
        }
    )


def measure(port: int, path: str, accept: str, options: argparse.Namespace) -> dict:
    # Warm up the workers (imports, first describe, caches) outside the measurement.
    for _ in range(20):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}", headers={"Accept": accept}
        )
        urllib.request.urlopen(request, timeout=10).read()
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(
        target=_load,
        args=(port, path, accept, options.connections, options.requests, options.seconds, queue),
    )
    process.start()
    result = queue.get(timeout=options.seconds + 120)
    process.join()
    result["rps"] = result["requests"] / result["seconds"] if result["seconds"] else 0.0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, help="a built dist/ (default: build the seed)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, default=4000, help="per measurement")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    options = parser.parse_args()

    port = free_port()
    dist = options.dist.resolve() if options.dist else build_seed(port)
    uname = platform.uname()
    print(f"machine: {uname.system} {uname.release} {uname.machine}, nproc {os.cpu_count()}")
    print(
        f"python {platform.python_version()}, publisher serve (granian), workers {options.workers}"
    )
    print(
        f"load: 1 process, {options.connections} keep-alive connections, "
        f"at most {options.requests} requests or {options.seconds:g} s per row"
    )
    rows = []
    for cache_label, env in (
        ("cache on", {}),
        ("cache off", {"PUBLISHER_RESOURCE_CACHE_ENTRIES": "0"}),
    ):
        server = ServerProcess(
            dist,
            port=port,
            workers=options.workers,
            env=env,
            log_dir=Path(tempfile.gettempdir()),  # not beside a --dist inside the repository
            ready_timeout_s=60,
        )
        try:
            resource = pick_resource(port)
            targets = [("baseline /robots.txt", "/robots.txt", "*/*")] if not env else []
            targets += [
                (f"{resource} Turtle ({cache_label})", resource, "text/turtle"),
                (f"{resource} HTML ({cache_label})", resource, "text/html"),
            ]
            for label, path, accept in targets:
                result = measure(port, path, accept, options)
                result["target"] = label
                rows.append(result)
                print(
                    f"{label:<60} {result['rps']:8.0f} req/s  "
                    f"p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms  "
                    f"({result['requests']} requests, {result['errors']} errors, "
                    f"{result['seconds']:.1f} s)",
                    flush=True,
                )
        finally:
            server.stop()
    if options.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
