"""A byte-bounded cache of rendered answers on disk, one directory per build, shared by every
web process of a server (granian and gunicorn run several).

Why disk: the processes share nothing else, a hit is one `open` + `read` (tens of
microseconds; the page cache keeps the bytes in RAM), and a file can be handed to the WSGI
server as it is (`wsgi.file_wrapper`). Why per build: a build's data never changes, so an
answer stays exact until the next build; the next build gets a directory of its own, and the
directories of older builds are removed when it is opened (`prune_other_builds`).

Concurrency: readers take no lock. Writers write a temporary file and `os.replace` it into
place, so a reader sees a whole entry or none; an entry removed while a reader has it open
stays readable to that reader (POSIX). Writers (cache misses only: each follows a query or a
render that cost far more) serialize on an `flock` over the directory's ledger, which holds
the sum of the entries' sizes, so the bound holds across processes: an entry is written only
when the sum stays within `max_bytes`, after evicting the oldest entries (by write time)
when needed. The bound counts the entries' bytes, not the file system's blocks.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from publisher.dist import cache_root

if TYPE_CHECKING:
    from publisher.web.state import ServedBuild

log = logging.getLogger("publisher.serve")

LEDGER = ".ledger"  # the sum of the entries' sizes, and the writers' lock
# When over the bound, evict down to this share of it, so that a full cache does not scan
# its directory on every write.
EVICT_TO = 0.8


def entry_name(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


# How many keys each process remembers having seen once (for `min_uses`), about 100 bytes each.
SEEN_KEYS = 100_000


class DiskCache:
    """`min_uses` 2: an entry is written on its second request in this process, not its first,
    so that answers asked once (fresh queries with new constants) cost no disk writes
    (nginx's proxy_cache_min_uses)."""

    def __init__(self, directory: Path, *, max_bytes: int, min_uses: int = 1) -> None:
        self.directory = directory
        self._prefix = str(directory) + os.sep
        self.max_bytes = max(0, int(max_bytes))
        self.min_uses = min_uses
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seen_lock = threading.Lock()
        if self.enabled:
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                log.warning("result cache disabled: cannot create %s (%s)", directory, error)
                self.max_bytes = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    def path(self, key: str) -> Path:
        return Path(self._where(key))

    def _where(self, key: str) -> str:
        # Strings, not pathlib: this runs on every request and pathlib costs microseconds.
        return self._prefix + entry_name(key)

    def get(self, key: str) -> bytes | None:
        if not self.enabled:
            return None
        try:
            with open(self._where(key), "rb") as stream:
                return stream.read()
        except OSError:
            return None

    def open(self, key: str) -> BinaryIO | None:
        """The entry's file opened for reading (a file response), or None when not cached."""
        if not self.enabled:
            return None
        try:
            return open(self._where(key), "rb")  # the caller closes it
        except OSError:
            return None

    def put(self, key: str, data: bytes, *, min_uses: int | None = None) -> bool:
        """Keep `data` under `key` if it fits the bound; False when not kept. `min_uses`
        overrides the cache's own for this entry."""
        size = len(data)
        if not self.enabled or size > self.max_bytes:
            return False
        if (min_uses or self.min_uses) > 1 and not self._asked_before(key):
            return False
        target = self.path(key)
        try:
            with self._ledger() as ledger:
                if target.exists():
                    return True  # another process wrote it meanwhile
                used = ledger.used
                if used + size > self.max_bytes:
                    used = self._evict(keep=int(self.max_bytes * EVICT_TO) - size)
                    if used + size > self.max_bytes:
                        return False
                staged = self.directory / f".{target.name}.{os.getpid()}.tmp"
                with open(staged, "wb") as stream:
                    stream.write(data)
                os.replace(staged, target)
                ledger.used = used + size
            return True
        except OSError as error:
            # The build's directory was removed (a newer build pruned it), or the disk is
            # full: the answer is served anyway, just not kept.
            log.debug("not cached: %s (%s)", target, error)
            return False

    def _asked_before(self, key: str) -> bool:
        name = entry_name(key)
        with self._seen_lock:
            if name in self._seen:
                del self._seen[name]
                return True
            self._seen[name] = None
            if len(self._seen) > SEEN_KEYS:
                self._seen.popitem(last=False)
        return False

    def bytes_used(self) -> int:
        """The sum of the entries' sizes, counted from the files."""
        return sum(size for _, _, size in self._entries())

    def _entries(self) -> Iterator[tuple[float, Path, int]]:
        with os.scandir(self.directory) as found:
            for entry in found:
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                with contextlib.suppress(FileNotFoundError):
                    stat = entry.stat()
                    yield stat.st_mtime, Path(entry.path), stat.st_size

    def _evict(self, *, keep: int) -> int:
        """Remove the oldest entries until at most `keep` bytes stay; the bytes left."""
        entries = sorted(self._entries())
        used = sum(size for _, _, size in entries)
        for _, path, size in entries:
            if used <= max(0, keep):
                break
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            used -= size
        return used

    @contextlib.contextmanager
    def _ledger(self) -> Iterator[_Ledger]:
        # Not O_APPEND: the ledger is rewritten in place with pwrite.
        fd = os.open(self.directory / LEDGER, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            ledger = _Ledger(fd)
            yield ledger
            ledger.save()
        finally:
            os.close(fd)  # releases the lock


class _Ledger:
    """The bytes kept, as a fixed-width number rewritten in place (no truncate: on a file
    system mounted with `discard`, truncating frees blocks synchronously, ~10 ms)."""

    WIDTH = 20

    def __init__(self, fd: int) -> None:
        self._fd = fd
        text = os.pread(self._fd, self.WIDTH, 0).strip()
        self.used = int(text) if text.isdigit() else 0
        self._read = self.used

    def save(self) -> None:
        if self.used != self._read:
            os.pwrite(self._fd, str(self.used).rjust(self.WIDTH).encode("ascii"), 0)


def build_cache_root(dist: Path, configured: str) -> Path:
    """Where the builds' cache directories live: the setting, else beside dist/ (never inside:
    dist/ is the published build, swapped as a whole)."""
    # A subdirectory of its own: the builder keeps its per-document caches beside it
    # (validation/), which pruning the serving side's old builds must never touch.
    return cache_root(dist, configured) / "builds"


def prune_other_builds(root: Path, *, keep: str) -> None:
    """Remove the cache directories of every build but `keep` (best effort: a process still
    finishing requests on an older build just misses and stops writing there)."""
    with contextlib.suppress(OSError), os.scandir(root) as found:
        for entry in found:
            if entry.name != keep and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)


def settings_digest(state: ServedBuild) -> str:
    """Servers started with other settings (limits, titles, page sizes) on the same build keep
    apart: what they render may differ. The processes of one server share their settings."""
    values = json.dumps(sorted(state.settings.items()), default=str, ensure_ascii=False)
    return hashlib.sha256(values.encode("utf-8")).hexdigest()[:16]


# Settings that change no rendered /doc/ body: where things are, how the server runs, its
# caches' sizes, the SPARQL endpoint's limits, the build's own steps. Every other setting (the
# base, titles, licence, row limits, compression threshold...) is in `render_digest`, so a body
# rendered under other values is never taken for this server's.
NOT_RENDERED = frozenset(
    {
        "ontology_dir", "data_dir", "shapes_dir", "dist_dir", "cache_dir",
        "validation_engine", "validation_workers",
        "host", "port", "workers", "threads", "access_log", "header_timeout_ms",
        "resource_cache_entries", "page_cache_max_bytes", "sparql_cache_max_bytes",
        "sparql_cache_max_age_s", "response_cache_max_bytes", "replay_memory_max_bytes",
        "sparql_fresh_path", "doc_cache_max_bytes", "reload_check_ms",
        "sparql_time_limit_ms", "sparql_memory_limit_mb", "sparql_max_rows",
        "sparql_max_query_length", "sparql_max_body_bytes", "sparql_max_query_tokens",
        "sparql_max_nesting_depth", "sparql_max_response_bytes", "sparql_workers",
        "sparql_queue_timeout_ms", "sparql_reserved_workers", "sparql_reserved_time_limit_ms",
        "fragments_page_size", "fragments_count_limit", "search_max_limit",
        "reconcile_max_queries", "doc_prerender", "doc_prerender_max_resources",
        "store_memory_max_quads",
    }
)  # fmt: skip


def render_digest(settings: Mapping[str, Any]) -> str:
    """The settings a rendered /doc/ body may depend on, hashed: the build's pre-rendered
    bodies (dist/prerendered/doc/<digest>/) serve only a server whose digest is the same."""
    values = sorted((k, v) for k, v in settings.items() if k not in NOT_RENDERED)
    text = json.dumps(values, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def for_build(state: ServedBuild, kind: str, *, max_bytes: int, min_uses: int = 1) -> DiskCache:
    """This build's cache of one kind (``sparql``, ``doc``), once per process and build: a new
    build gets a new directory (and the older builds' directories are removed), so nothing
    computed on one build is ever served from another."""

    def make() -> DiskCache:
        root = build_cache_root(state.dist, str(state.settings.cache_dir))
        build = re.sub(r"[^A-Za-z0-9._-]", "_", state.info.build_id)[:80] or "build"
        if max_bytes > 0:
            prune_other_builds(root, keep=build)
        directory = root / build / settings_digest(state) / kind
        return DiskCache(directory, max_bytes=max_bytes, min_uses=min_uses)

    return state.memo(f"disk_cache:{kind}", make)
