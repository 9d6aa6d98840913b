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
from collections import deque
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
        # A request appends its fields (deque.append is atomic: no lock on the request's
        # path); the line is formatted when written, off the request's thread.
        self._pending: deque[tuple[float, Any, Any, Any, Any, int | str, float]] = deque()
        self._lock = threading.Lock()  # one writer at a time, lines in order
        self._second = -1
        self._stamp = ""
        self._writer: threading.Thread | None = None
        self._tz = datetime.now().astimezone().tzinfo
        # The wall clock from the monotonic one read per request (one clock call instead of
        # two); the log shows seconds, far coarser than the drift between them.
        self._wall_offset = time.time() - time.perf_counter()

    def add(
        self, environ: dict[str, Any], status: int | str, started: float, elapsed_s: float
    ) -> None:
        """`status` as an int or as the WSGI status line ("200 OK")."""
        pending = self._pending
        pending.append(
            (
                started,
                environ.get("REMOTE_ADDR", "-"),
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                environ.get("SERVER_PROTOCOL"),
                status,
                elapsed_s,
            )
        )
        if self._writer is None:  # started in the process that serves (after a fork)
            with self._lock:
                if self._writer is None:
                    self._start_writer()
        if len(pending) >= MAX_BUFFERED:
            self.flush()

    def _line(self, fields: tuple[float, Any, Any, Any, Any, int | str, float]) -> str:
        started, remote, method, path, protocol, status, elapsed_s = fields
        second = int(started)
        if second != self._second:
            self._stamp = datetime.fromtimestamp(second, tz=self._tz).strftime(
                "%Y-%m-%d %H:%M:%S %z"
            )
            self._second = second
        code = status if isinstance(status, int) else status[:3]
        return (
            f'[{self._stamp}] {remote} - "{method} {path} {protocol}" {code} '
            f"{elapsed_s * 1000:.3f}\n"
        )

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
            pending = self._pending
            lines = [self._line(pending.popleft()) for _ in range(len(pending))]
            if lines:
                stream = self._stream or sys.stdout
                stream.write("".join(lines))
                stream.flush()


def logged(app: WSGIApp, log: AccessLog) -> WSGIApp:
    """`app`, each request written to `log` once the app has answered it."""
    clock = time.perf_counter
    offset = log._wall_offset

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = clock()
        seen: list[str] = []

        def remember(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            seen.append(status)
            return start_response(status, headers, *exc_info)

        try:
            return app(environ, remember)
        finally:
            # The last status given (after an error, start_response is called again).
            log.add(environ, seen[-1] if seen else 500, started + offset, clock() - started)

    return application
