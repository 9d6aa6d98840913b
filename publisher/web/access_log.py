"""The access log of `publisher serve`: one line per request, granian's format, written in batches.

granian's own access log builds a `logging` record per request, formats its time with
`strftime` and writes and flushes the stream under the logging lock, on the request's thread:
about a third of the CPU of a replayed answer, more with several threads waiting for the lock
(bench/web_cpu.py, README "Caching and speed"). This writes the same line,
``[2026-11-30 18:40:00 +0000] 127.0.0.1 - "GET /sparql HTTP/1.1" 200 0.123``, from a string
built with the time formatted once a second, into a buffer that a background thread writes out
every `FLUSH_EVERY_S` (and when it holds `MAX_BUFFERED` lines, and when the process ends), so a
line appears within about a second of its request.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from multiprocessing import util as multiprocessing_util
from typing import Any, TextIO

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

FLUSH_EVERY_S = 1.0
MAX_BUFFERED = 512


class AccessLog:
    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._second = -1
        self._stamp = ""
        self._writer: threading.Thread | None = None
        self._tz = datetime.now().astimezone().tzinfo

    def add(self, environ: dict[str, Any], status: int, started: float, elapsed_s: float) -> None:
        second = int(started)
        if second != self._second:  # a race here formats the same second twice: harmless
            self._stamp = datetime.fromtimestamp(second, tz=self._tz).strftime(
                "%Y-%m-%d %H:%M:%S %z"
            )
            self._second = second
        line = (
            f'[{self._stamp}] {environ.get("REMOTE_ADDR", "-")} - "{environ.get("REQUEST_METHOD")} '
            f'{environ.get("PATH_INFO")} {environ.get("SERVER_PROTOCOL")}" {status} '
            f"{elapsed_s * 1000:.3f}\n"
        )
        with self._lock:
            self._lines.append(line)
            full = len(self._lines) >= MAX_BUFFERED
            if self._writer is None:  # started in the process that serves (after a fork)
                self._start_writer()
        if full:
            self.flush()

    def _start_writer(self) -> None:
        self._writer = threading.Thread(target=self._write_on, name="access-log", daemon=True)
        self._writer.start()
        atexit.register(self.flush)
        # granian's workers end through multiprocessing, which skips atexit.
        multiprocessing_util.Finalize(self, self.flush, exitpriority=10)

    def _write_on(self) -> None:
        while True:
            time.sleep(FLUSH_EVERY_S)
            self.flush()

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if lines:
            stream = self._stream or sys.stdout
            stream.write("".join(lines))
            stream.flush()


def logged(app: WSGIApp, log: AccessLog) -> WSGIApp:
    """`app`, each request written to `log` once the app has answered it."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started, clock = time.time(), time.perf_counter()
        seen = [500]

        def remember(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            seen[0] = int(status[:3])
            return start_response(status, headers, *exc_info)

        try:
            return app(environ, remember)
        finally:
            log.add(environ, seen[0], started, time.perf_counter() - clock)

    return application
