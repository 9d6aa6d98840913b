"""The build a process serves (`ServedBuild`: its store, identity, memoized data) and the
`BuildSwitcher` that moves to a newer build when `publisher build` publishes one."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app

from publisher.dist import BUILD_INFO, BuildInfo
from publisher.errors import PublisherError
from publisher.settings import Settings
from publisher.store import open_store
from publisher.store.base import Store

T = TypeVar("T")

log = logging.getLogger("publisher.serve")


class BadBuild(PublisherError):
    """A dist/ that cannot be served; the message names the file."""


GRAPH_SIZES = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"


@dataclass
class ServedBuild:
    """One opened build: settings (with the base it was built with), its store, its files."""

    settings: Settings
    dist: Path
    info: BuildInfo
    store: Store
    stamp: tuple[int, int] = (0, 0)  # build.json's (inode, mtime) when this build was opened
    extras: dict[str, Any] = field(default_factory=dict)  # per-blueprint caches

    def memo(self, key: str, make: Callable[[], T]) -> T:
        """`make()` once per build and process: the data is read-only until the next build."""
        if key not in self.extras:
            self.extras[key] = make()
        return self.extras[key]

    @property
    def graph_sizes(self) -> dict[str, int]:
        """The named graphs and how many statements each holds, in IRI order."""
        return self.memo(
            "graph_sizes",
            lambda: {r["g"].value: int(r["n"].value) for r in self.store.query(GRAPH_SIZES)},
        )

    @property
    def base(self) -> str:
        return self.settings.base_uri

    @property
    def etag(self) -> str:
        return self.info.build_id

    @property
    def last_modified(self) -> datetime:
        return datetime.fromisoformat(self.info.built_at.replace("Z", "+00:00"))


def build_stamp(dist: Path) -> tuple[int, int]:
    """Changes whenever `publisher build` swaps a new dist/ in (a new build.json file)."""
    stat = os.stat(dist / BUILD_INFO)
    return stat.st_ino, stat.st_mtime_ns


def read_build_info(dist: Path) -> BuildInfo:
    path = dist / BUILD_INFO
    try:
        info = BuildInfo.read(dist)
        datetime.fromisoformat(info.built_at.replace("Z", "+00:00"))
    except (OSError, ValueError, TypeError, AttributeError) as error:
        raise BadBuild(
            f"{path}: not a build description ({type(error).__name__}: {error})"
        ) from None
    return info


def open_build(settings: Settings, *, preload: Sequence[Preload] = ()) -> ServedBuild:
    """Open a build and read everything serving takes from its files (`preload`), so a
    damaged build fails here, naming the file, instead of on some later request."""
    dist = Path(settings.dist_dir).resolve()
    try:
        stamp = build_stamp(dist)
    except OSError as error:
        raise BadBuild(f"{dist / BUILD_INFO}: {error.strerror or error}") from None
    info = read_build_info(dist)
    # The data was minted under the base it was built with; serve that one.
    settings = settings.replace(base_uri=info.base)
    try:
        store: Store = open_store(settings, dist)
    except PublisherError as error:
        raise BadBuild(str(error)) from None
    except Exception as error:  # pyoxigraph reports a damaged store as OSError or ValueError
        raise BadBuild(f"{dist / 'store'}: cannot open the store ({error})") from None
    state = ServedBuild(settings=settings, dist=dist, info=info, store=store, stamp=stamp)
    try:
        state.graph_sizes  # noqa: B018  (a first query: the store answers)
        for name, load in preload:
            try:
                load(state)
            except BadBuild:
                raise
            except Exception as error:
                raise BadBuild(f"{dist / name}: {type(error).__name__}: {error}") from None
    except BadBuild:
        store.close()
        raise
    except Exception as error:
        store.close()
        raise BadBuild(f"{dist / 'store'}: the store does not answer ({error})") from None
    return state


# What serving reads from a build's files, by file name: run when a build is opened.
Preload = tuple[str, Callable[[ServedBuild], object]]


class BuildSwitcher:
    """The build a process serves, switched to a new one when `publisher build` publishes it.

    At most every `reload_check_ms` a request stats dist/build.json; when a new build has been
    swapped in, the next requests get it (with fresh caches) and the old build's resources are
    released after a grace period, so requests still running on it can finish.
    """

    def __init__(self, settings: Settings, *, preload: Sequence[Preload] = ()) -> None:
        self.settings = settings
        self.preload = list(preload)
        self.current = open_build(settings, preload=self.preload)
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._rejected: tuple[int, int] | None = None  # the stamp of a bad build, not retried
        # Read once: every request calls get(), and a setting is read through __getattr__.
        self._interval = settings.reload_check_ms / 1000

    def get(self) -> ServedBuild:
        interval = self._interval
        if interval > 0 and time.monotonic() - self._checked >= interval:
            self._refresh()
        return self.current

    def _refresh(self) -> None:
        with self._lock:
            self._checked = time.monotonic()
            try:
                stamp = build_stamp(self.current.dist)
            except OSError:
                return  # mid-swap (between the two renames): keep serving the current build
            if stamp == self.current.stamp or stamp == self._rejected:
                return
            try:
                fresh = open_build(self.settings, preload=self.preload)
            except BadBuild as error:
                # Not complete yet, or damaged: keep serving the build we have. Logged once.
                self._rejected = stamp
                log.error(
                    "not switching to the new build: %s; still serving build %s",
                    error,
                    self.current.info.build_id,
                )
                return
            retired, self.current = self.current, fresh
        grace = self.settings.sparql_time_limit_ms / 1000 + 5
        timer = threading.Timer(grace, self._retire, args=(retired,))
        timer.daemon = True
        timer.start()

    @staticmethod
    def _retire(retired: ServedBuild) -> None:
        retired.store.close()  # an embedded store stops its query workers


def build_switcher() -> BuildSwitcher:
    return current_app.extensions["publisher"]


def served_build() -> ServedBuild:
    """The build this request is served from."""
    return build_switcher().get()
