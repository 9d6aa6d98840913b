"""Embedded Oxigraph: the built on-disk store opened read-only, or the dump loaded into memory.

Pages read it in this process. Public queries run in its pool of killable worker processes
(``store.workers``), each opening the same store, so a runaway query can be stopped.
"""

from __future__ import annotations

import os
import threading
from itertools import islice
from pathlib import Path

import pyoxigraph as ox

from publisher import formats
from publisher.dist import STORE_DIR, BuildInfo
from publisher.errors import StoreError
from publisher.settings import Settings, describe_setting
from publisher.sparql.errors import (
    InvalidQueryRequest,
    QueryBusy,
    QueryOutOfMemory,
    QueryTimedOut,
    QueryUnavailable,
    QueryWorkerCrashed,
    ReservedLaneOverrun,
)
from publisher.sparql.job import QueryAnswer, QueryJob, QueryLimits
from publisher.store.base import Store
from publisher.store.patterns import Count, Pattern
from publisher.store.query_worker import configured_stack_mb
from publisher.store.union import load_dump
from publisher.store.workers import (
    PoolBusy,
    ReservedTimedOut,
    WorkerConfig,
    WorkerDied,
    WorkerPool,
    WorkerTimedOut,
    WorkerUnavailable,
)


def worker_config(
    dist: Path, *, mode: str, memory_limit_mb: int, memory_max_quads: int = 0, stack_mb: int = 0
) -> WorkerConfig:
    """What each query worker opens: dist/store (`disk`), the dump in memory (`memory`), or,
    for `auto`, the dump in memory when the build has at most `memory_max_quads` quads and
    dist/store otherwise.

    Why `auto` loads small datasets into memory: pyoxigraph's in-memory store evaluates the
    joins and aggregates of analytic queries several times faster than its RocksDB store
    (100,000 triples, in one process: a GROUP BY aggregate 26.5 -> 7.1 ms, a GRAPH
    provenance count 1.3 -> 0.6 ms, a point lookup 0.054 -> 0.035 ms; a value-range filter
    about the same), for about 0.55 KB of memory per quad in each worker (the union default
    graph doubles the quads) and a start of about 1.2 s per 100,000 quads instead of 0.1 s.
    See README, "Speed of the web tier"."""
    if mode == "auto":
        dump = dist / formats.dump_name(formats.N_QUADS)
        small = dump.is_file() and BuildInfo.read(dist).quads <= memory_max_quads
        mode = "memory" if small else "disk"
    if mode == "disk":
        path = dist / STORE_DIR
        if not path.is_dir():
            raise StoreError(f"no store at {path}: run `publisher build` first (setting dist_dir)")
        return WorkerConfig(store_path=path, memory_limit_mb=memory_limit_mb, stack_mb=stack_mb)
    if mode == "memory":
        dump = dist / formats.dump_name(formats.N_QUADS)
        if not dump.is_file():
            raise StoreError(f"no dump at {dump}: run `publisher build` first (setting dist_dir)")
        return WorkerConfig(dump_path=dump, memory_limit_mb=memory_limit_mb, stack_mb=stack_mb)
    raise StoreError(f"unknown store mode {mode!r} (setting store: auto, disk, memory or a URL)")


class EmbeddedStore(Store):
    def __init__(self, oxigraph: ox.Store, *, base: str, workers: WorkerConfig, settings: Settings):
        self.oxigraph = oxigraph
        self.base = base
        self.settings = settings  # the pool's size and limits, named in error messages
        self._workers = workers
        self._pool: WorkerPool | None = None
        self._pool_lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, dist: Path, *, settings: Settings) -> EmbeddedStore:
        """`disk`: dist/store read-only (many processes may open it); `memory`: the dump;
        `auto`: dist/store here (pages read a few quads each), the workers as `worker_config`
        says."""
        config = worker_config(
            dist,
            mode=settings.store,
            memory_limit_mb=settings.sparql_memory_limit_mb,
            memory_max_quads=settings.store_memory_max_quads,
            # Room for the deepest chain the token limit admits (query_worker.py).
            stack_mb=configured_stack_mb(settings),
        )
        if config.dump_path is not None and settings.store == "memory":
            oxigraph = load_dump(config.dump_path)
        else:
            path = dist / STORE_DIR
            if not path.is_dir():
                raise StoreError(f"no store at {path}: run `publisher build` first")
            oxigraph = ox.Store.read_only(str(path))
        return cls(oxigraph, base=settings.base_uri, workers=config, settings=settings)

    def quads(self, subject=None, predicate=None, obj=None, graph=None, *, limit=None):
        # Only named graphs: the default graph holds their union (store/union.py).
        found = (
            q
            for q in self.oxigraph.quads_for_pattern(subject, predicate, obj, graph)
            if not isinstance(q.graph_name, ox.DefaultGraph)
        )
        return list(islice(found, limit) if limit is not None else found)

    def query(self, sparql: str):
        # The store's own default graph answers: the build wrote the union of the named
        # graphs there as a set (use_default_graph_as_union is a bag).
        return self.oxigraph.query(sparql, base_iri=self.base)

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self.oxigraph.named_graphs() if isinstance(g, ox.NamedNode))

    def match(self, pattern: Pattern, *, offset: int = 0, limit: int = 100) -> list[ox.Quad]:
        # Straight from the indexes: the default graph holds the union (a set), the named
        # graphs their own statements; an unbound graph reads both, as store/patterns.py says.
        found = self.oxigraph.quads_for_pattern(
            pattern.subject, pattern.predicate, pattern.object, pattern.graph
        )
        return list(islice(found, offset, offset + limit))

    def count(self, pattern: Pattern, *, scan_limit: int) -> Count:
        found = self.oxigraph.quads_for_pattern(
            pattern.subject, pattern.predicate, pattern.object, pattern.graph
        )
        seen = sum(1 for _ in islice(found, scan_limit + 1))
        return Count(min(seen, scan_limit), exact=seen <= scan_limit)

    def pool(self) -> WorkerPool:
        """This process's workers, started on first use (after a forking server's fork)."""
        with self._pool_lock:
            if self._closed:
                raise QueryUnavailable("the query pool is shut down")
            pool = self._pool
            if pool is None or pool.owner_pid != os.getpid() or pool.closed:
                settings = self.settings
                pool = self._pool = WorkerPool(
                    self._workers,
                    size=settings.sparql_workers,
                    queue_timeout_s=settings.sparql_queue_timeout_ms / 1000,
                    reserved=settings.sparql_reserved_workers,
                    reserved_time_limit_ms=settings.sparql_reserved_time_limit_ms,
                )
            return pool

    def run(self, job: QueryJob, limits: QueryLimits) -> QueryAnswer:
        settings = self.settings
        try:
            reply = self.pool().run(job, limits)
        except PoolBusy:
            raise QueryBusy(
                f"all {settings.sparql_workers} query workers stayed busy for "
                f"{settings.sparql_queue_timeout_ms} ms; try again later (limits: "
                f"{describe_setting('sparql_queue_timeout_ms')}, "
                f"{describe_setting('sparql_workers')})",
                setting="sparql_queue_timeout_ms",
            ) from None
        except WorkerTimedOut:
            raise QueryTimedOut(
                f"the query ran longer than {limits.time_ms} ms and was stopped; "
                f"the limit is {describe_setting('sparql_time_limit_ms')}. Make it more selective "
                "or add a LIMIT.",
                setting="sparql_time_limit_ms",
            ) from None
        except ReservedTimedOut:
            raise ReservedLaneOverrun(
                f"every query worker was busy with long queries, and on the worker kept for short "
                f"queries this one ran longer than {settings.sparql_reserved_time_limit_ms} ms; "
                f"try again later (limits: {describe_setting('sparql_reserved_time_limit_ms')}, "
                f"{describe_setting('sparql_workers')})",
                setting="sparql_reserved_time_limit_ms",
            ) from None
        except WorkerDied as died:
            if died.out_of_memory:
                raise out_of_memory(settings.sparql_memory_limit_mb) from None
            raise QueryWorkerCrashed(
                f"the query worker crashed while running this query ({died.cause}); it was "
                "replaced. This is a bug: please report the query."
            ) from None
        except WorkerUnavailable as error:
            raise QueryUnavailable(str(error)) from None
        header = reply.header
        if not header.get("ok"):
            if header.get("error") == "syntax":
                raise InvalidQueryRequest(f"query syntax error: {header.get('message')}")
            if header.get("error") == "memory":
                raise out_of_memory(settings.sparql_memory_limit_mb)
            raise InvalidQueryRequest(f"the query could not be evaluated: {header.get('message')}")
        return QueryAnswer.from_header(header, reply.body)

    def close(self) -> None:
        """Stop the query workers (they hold the store open); pages may still read it."""
        with self._pool_lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


def out_of_memory(limit_mb: int) -> QueryOutOfMemory:
    return QueryOutOfMemory(
        f"the query needed more memory than the {limit_mb} MiB a query worker may use and was "
        f"stopped; the limit is {describe_setting('sparql_memory_limit_mb')}. Make it more "
        "selective or add a LIMIT.",
        setting="sparql_memory_limit_mb",
    )
