"""Answers already given for this build, replayed before Flask runs (issue 10).

A build's data does not change until the next build, so a complete 200 answer to a GET of
/sparql, /doc/ or /fragments is the answer to every later request that is the same in everything the
answer depends on: the path and query string, the headers that negotiate (Accept,
Accept-Language, Accept-Encoding) and, behind trusted proxies, the forwarded address. Flask,
routing, negotiation, the query's checks and every after-request hook cost about a millisecond
of CPU per request; a replay is a hash, one file read and the headers as they were sent.

What is kept: only GET answers with status 200 that carry an ETag (the build identity: every
cacheable answer of the app has one) and no `no-cache`/`no-store`/`private` (a truncated
SPARQL answer says no-cache), of at most `MAX_BODY` bytes; SPARQL answers and fragments from their second request in a process on (an
answer asked once, as fresh queries with new constants are, costs no disk write), /doc/
answers from the first. Errors, truncated answers,
conditional and range requests are never kept. Requests with a precondition other than
If-None-Match, or a Range, always go to the app; If-None-Match is answered here: 304 when
it matches the kept ETag (compared weakly, as the app does), the kept answer otherwise.

The entries live in the build's disk cache (``web.disk_cache``): shared by the server's
processes, bounded in bytes (setting `response_cache_max_bytes`), dropped with the build.
The hottest are also kept in each process's memory (`HotReplays`, setting
`replay_memory_max_bytes`), keyed by the request's key itself, with their header lists ready:
a replay from memory is a dictionary lookup and a `start_response`, no hash, file or JSON.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from publisher.web.disk_cache import DiskCache, for_build
from publisher.web.state import BuildSwitcher, ServedBuild

MAX_BODY = 1 << 20
# Kept from a request's second sighting in a process: a fresh query writes nothing.
MIN_USES = 2
PATHS = ("/sparql", "/doc/", "/fragments")
# Request headers the app's answers depend on (negotiation, compression, proxies' addresses).
KEY_HEADERS = (
    "HTTP_ACCEPT",
    "HTTP_ACCEPT_LANGUAGE",
    "HTTP_ACCEPT_ENCODING",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_ORIGIN",
)
# A request with one of these needs the app's evaluation (RFC 9110 §13.2.2, Range).
APP_ONLY = (
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_RANGE",
    "HTTP_IF_RANGE",
)
NOT_KEPT = ("no-cache", "no-store", "private")
# Headers of a 200 that describe its body: not sent with a 304.
BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding"})

REPLAY = ("Server-Timing", "replay")  # instead of the first answer's timing

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


# PATH_INFO is decoded; the raw request target (gunicorn's RAW_URI, werkzeug's REQUEST_URI,
# absent under granian) is in the key because an answer's Content-Location and Link headers
# follow the spelling the client sent (%c4%b1 or %C4%B1).
KEY_FIELDS = ("PATH_INFO", "RAW_URI", "REQUEST_URI", "QUERY_STRING", *KEY_HEADERS)


def request_key(environ: dict[str, Any]) -> str:
    """The parts joined by NUL, which no WSGI header or path carries (PEP 3333 strings come
    from the request line and headers, where the HTTP parser refuses NUL)."""
    return "\0".join([environ.get(name, "") for name in KEY_FIELDS])


def _cache(state: ServedBuild) -> DiskCache:
    limit = int(state.settings.response_cache_max_bytes)
    return for_build(state, "responses", max_bytes=limit, min_uses=MIN_USES)


@dataclass(frozen=True)
class Kept:
    """A kept answer, ready to send: its headers as sent with a 200 and with a 304."""

    body: bytes
    etag: str
    ok_headers: list[tuple[str, str]]
    not_modified_headers: list[tuple[str, str]]

    @classmethod
    def from_entry(cls, entry: bytes) -> Kept:
        """From the disk cache's entry: the headers as a JSON line, then the body."""
        head, _, body = entry.partition(b"\n")
        headers = [(str(k), str(v)) for k, v in json.loads(head)]
        return cls(
            body=body,
            etag=next((v for k, v in headers if k.lower() == "etag"), ""),
            ok_headers=[REPLAY if k == "Server-Timing" else (k, v) for k, v in headers],
            not_modified_headers=[(k, v) for k, v in headers if k.lower() not in BODY_HEADERS],
        )

    @property
    def size(self) -> int:
        # The body, and roughly what the header lists hold.
        return len(self.body) + sum(len(k) + len(v) + 64 for k, v in self.ok_headers)


class HotReplays:
    """A process's most recently replayed answers, bounded in bytes (least recently used go
    first). Threads of one process share it, hence the lock; a build has its own."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self.bytes = 0
        self._kept: OrderedDict[str, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: str) -> Kept | None:
        # No lock: under the GIL each OrderedDict call is atomic, and an entry `put` drops
        # meanwhile is only not moved (the KeyError). The lock orders the writers.
        kept = self._kept.get(key)
        if kept is not None:
            try:  # noqa: SIM105 (contextlib.suppress costs a context manager per replay)
                self._kept.move_to_end(key)
            except KeyError:
                pass
        return kept

    def put(self, key: str, kept: Kept) -> None:
        size = kept.size + len(key)
        if size > self.max_bytes:
            return
        with self._lock:
            previous = self._kept.pop(key, None)
            if previous is not None:
                self.bytes -= previous.size + len(key)
            self._kept[key] = kept
            self.bytes += size
            while self.bytes > self.max_bytes:
                dropped_key, dropped = self._kept.popitem(last=False)
                self.bytes -= dropped.size + len(dropped_key)


def _hot(state: ServedBuild) -> HotReplays:
    return state.memo(
        "fast_path:hot", lambda: HotReplays(int(state.settings.replay_memory_max_bytes))
    )


def _lane(state: ServedBuild) -> tuple[DiskCache, HotReplays] | None:
    """The build's disk cache and hot replays, looked up once per build and process (a
    request pays one dictionary lookup for both); None when the cache is off."""
    lane = state.extras.get("fast_path:lane", False)
    if lane is False:
        cache = _cache(state)
        lane = state.extras["fast_path:lane"] = (cache, _hot(state)) if cache.enabled else None
    return lane


def _matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §8.8.3.2), as werkzeug's make_conditional does."""
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == opaque for tag in if_none_match.split(","))


def replayed(app: WSGIApp, switcher: BuildSwitcher) -> WSGIApp:
    """`app` behind the replay of the answers kept for the current build."""

    # Every replay runs this: it is written for the fewest Python operations (what is left
    # beside granian's own WSGI call: bench/doc_floor.py).
    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or not environ.get("PATH_INFO", "").startswith(
            PATHS
        ):
            return app(environ, start_response)
        for name in APP_ONLY:
            if name in environ:
                return app(environ, start_response)
        lane = _lane(switcher.get())
        if lane is None:
            return app(environ, start_response)
        cache, hot = lane
        key = "\0".join([environ.get(name, "") for name in KEY_FIELDS])  # request_key
        kept = hot.get(key)
        if kept is None:
            entry = cache.get(key)
            if entry is None:
                return _keep_answer(app, environ, start_response, cache, key, hot)
            kept = Kept.from_entry(entry)
            hot.put(key, kept)
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None and _matches(if_none_match, kept.etag):
            start_response("304 NOT MODIFIED", list(kept.not_modified_headers))
            return []
        # A copy: a server or middleware may add to the list it is given.
        start_response("200 OK", list(kept.ok_headers))
        return [kept.body]

    return application


def _keep_answer(
    app: WSGIApp,
    environ: dict[str, Any],
    start_response: StartResponse,
    cache: DiskCache,
    key: str,
    hot: HotReplays,
) -> Iterable[bytes]:
    """Run the app; keep its answer when it qualifies (see the module's docstring)."""
    seen: dict[str, Any] = {}

    def remember(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        seen["status"], seen["headers"] = status, headers
        return start_response(status, headers, *exc_info)

    body = app(environ, remember)
    headers = seen.get("headers") or []
    names = {k.lower(): v for k, v in headers}
    length = names.get("content-length", "")
    if (
        "HTTP_IF_NONE_MATCH" in environ  # may be a 304: keep the answer of a plain GET only
        or not str(seen.get("status", "")).startswith("200")
        or "etag" not in names
        or "set-cookie" in names
        or any(word in names.get("cache-control", "") for word in NOT_KEPT)
        or not length.isdigit()
        or int(length) > MAX_BODY
    ):
        return body
    try:
        data = b"".join(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
    if len(data) == int(length):
        head = json.dumps([list(pair) for pair in headers], ensure_ascii=False).encode("utf-8")
        # A description is the same few kilobytes for every reader, and crawlers ask once.
        first_time = environ.get("PATH_INFO", "").startswith("/doc/")
        entry = head + b"\n" + data
        if cache.put(key, entry, min_uses=1 if first_time else None):
            hot.put(key, Kept.from_entry(entry))
    return [data]
