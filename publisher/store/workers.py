"""A pool of killable query worker processes, one pool per web process.

pyoxigraph has no query timeout or cancellation, and a thread cannot be killed: a runaway
query (a FILTER over a cartesian product, COUNT or ORDER BY over one) would keep a core and
gigabytes of memory long after its caller gave up. So public queries run in persistent worker
processes (``publisher.store.query_worker``) that open the store read-only; at the deadline
the worker is killed (SIGKILL: its CPU and memory are freed at once) and a fresh one is started
in its place (about 0.1 s). The pool holds `size` general workers, so at most `size` queries
of this web process run at once; a request that waits longer than `queue_timeout_s` is refused.

A share is kept for short queries: `reserved` more workers are used only while every general
worker is busy, and a query on one of them gets `reserved_time_limit_s` at most. Runaway
queries that fill the general workers thus cannot lock every other client out: a small ASK
still gets a reserved worker, and a runaway that lands there is stopped quickly.

Safe under forking servers: nothing is started at import; the embedded store creates its pool
on first use in the process that uses it (after the fork; see ``owner_pid``). Workers are
killed when the pool closes and at interpreter exit, end themselves if their parent dies (see
``sandbox.Watchdog``) and share the web process's process group, so stopping a server's group
stops them too.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publisher.sparql.job import QueryJob, QueryLimits
from publisher.store.frames import FrameTimeout, read_frame, write_frame

# A worker opening the store (or loading a large dump into memory) may take a while; this is
# not charged to any query's time limit.
WORKER_START_TIMEOUT_S = 120.0


class PoolError(Exception):
    """Base of what a query run through the pool can end with besides an answer."""


class PoolBusy(PoolError):
    """No worker became free within the queue timeout."""


class WorkerTimedOut(PoolError):
    """The query reached the time limit; its worker was killed and replaced."""


class ReservedTimedOut(PoolError):
    """A query on a reserved worker (all general workers busy) reached the short time limit."""


# How a worker that ran out of its address space ends: Rust aborts on a failed allocation
# (SIGABRT); the kernel's OOM killer sends SIGKILL (the pool's own kills are timeouts).
_OUT_OF_MEMORY_SIGNALS = frozenset((signal.SIGABRT, signal.SIGKILL))


class WorkerDied(PoolError):
    """The worker ended during the query: out of memory, or a crash (e.g. SIGSEGV)."""

    def __init__(self, returncode: int | None) -> None:
        self.returncode = returncode
        super().__init__(f"query worker ended: {self.cause}")

    @property
    def out_of_memory(self) -> bool:
        return self.returncode is not None and -self.returncode in _OUT_OF_MEMORY_SIGNALS

    @property
    def cause(self) -> str:
        code = self.returncode
        if code is None:
            return "closed its pipe"
        if code < 0:
            try:
                return f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit status {code}"


class WorkerUnavailable(PoolError):
    """A worker could not start (store missing, unreadable...)."""


@dataclass(frozen=True)
class WorkerConfig:
    """How to start a worker: the store it opens, its memory cap and its query stack."""

    store_path: Path | None = None  # on-disk store, opened read-only
    dump_path: Path | None = None  # or an N-Quads .gz dump loaded into memory
    memory_limit_mb: int = 0
    stack_mb: int = 0  # the query thread's stack (query_worker.query_stack_mb); 0: default

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "publisher.store.query_worker"]
        if self.store_path is not None:
            command += ["--store", str(self.store_path)]
        elif self.dump_path is not None:
            command += ["--dump", str(self.dump_path)]
        else:
            raise ValueError("a worker needs store_path or dump_path")
        return [
            *command,
            "--memory-limit-mb",
            str(self.memory_limit_mb),
            "--stack-mb",
            str(self.stack_mb),
        ]


@dataclass
class Reply:
    header: dict[str, Any]
    body: bytes
    worker_pid: int
    reserved: bool = False  # ran on a reserved worker (all general ones were busy)


class Worker:
    """One worker process and its two pipes (used by one thread at a time)."""

    def __init__(self, config: WorkerConfig) -> None:
        self.process = subprocess.Popen(
            config.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._jobs = self.process.stdin.fileno()
        self._replies = self.process.stdout.fileno()
        self.ready = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        try:
            header, _ = read_frame(self._replies, deadline=time.monotonic() + timeout)
        except (EOFError, FrameTimeout) as error:
            self.kill()
            raise WorkerUnavailable(
                "a query worker did not start (if sparql_memory_limit_mb is low, raise it: "
                "opening the store needs about 600 MiB of address space)"
            ) from error
        if not header.get("ready"):
            self.kill()
            raise WorkerUnavailable(str(header.get("message", "query worker did not start")))
        self.ready = True

    def started(self) -> bool:
        """Ready for a job, or its ready message waits to be read (nothing blocks)."""
        return self.ready or bool(select.select([self._replies], [], [], 0)[0])

    def run(self, job: QueryJob, limits: QueryLimits) -> tuple[dict[str, Any], bytes]:
        self.wait_ready(WORKER_START_TIMEOUT_S)
        deadline = time.monotonic() + limits.time_s
        try:
            write_frame(self._jobs, job.to_frame(limits))
            return read_frame(self._replies, deadline=deadline)
        except FrameTimeout:
            self.kill()
            raise WorkerTimedOut from None
        except (EOFError, BrokenPipeError):
            # It is ending on its own: let it, so that its status says how (signal or code).
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=5)
            self.kill()
            raise WorkerDied(self.process.returncode) from None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL and reap: the query's CPU and memory are released now, not later."""
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        for pipe in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]


@dataclass(eq=False)  # identity: pools are kept in a WeakSet
class WorkerPool:
    config: WorkerConfig
    size: int
    queue_timeout_s: float
    reserved: int = 0  # workers used only while all general ones are busy
    reserved_time_limit_ms: int = 1000
    owner_pid: int = field(default_factory=os.getpid)  # the process that owns the workers

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError("a pool needs at least one worker (setting sparql_workers)")
        self._idle: list[Worker] = []
        self._idle_reserved: list[Worker] = []
        self._all: set[Worker] = set()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._closed = False
        for _ in range(self.size):
            self._idle.append(self._spawn())
        for _ in range(max(0, self.reserved)):
            self._idle_reserved.append(self._spawn())
        atexit.register(self.close)
        _OPEN_POOLS.add(self)

    def _spawn(self) -> Worker:
        worker = Worker(self.config)
        with self._lock:
            self._all.add(worker)
        return worker

    def _replace(self, worker: Worker) -> Worker:
        worker.kill()
        with self._lock:
            self._all.discard(worker)
        return self._spawn()

    def _acquire(self) -> tuple[Worker, bool]:
        """A free general worker, else a free reserved one; (worker, is it reserved).

        The queue timeout counts the wait for busy workers, not for workers still starting
        (as a worker's start is not charged to a query's time limit): while one of them is
        starting, the wait is extended. A pool that has just started, or replaced a worker,
        with its workers loading the dump (store `auto`) for seconds, thus queues a burst of
        queries instead of refusing them; a worker that never starts ends the wait with
        WorkerUnavailable after WORKER_START_TIMEOUT_S."""
        deadline = time.monotonic() + self.queue_timeout_s
        with self._changed:
            while True:
                if self._idle:
                    return _take(self._idle), False
                if self._idle_reserved:
                    return _take(self._idle_reserved), True
                now = time.monotonic()
                if deadline <= now:
                    if not any(not worker.ready for worker in self._all):
                        raise PoolBusy
                    deadline = now + self.queue_timeout_s  # a busy worker is still starting
                self._changed.wait(deadline - now)

    def _release(self, worker: Worker, *, reserved: bool) -> None:
        with self._changed:
            (self._idle_reserved if reserved else self._idle).append(worker)
            self._changed.notify()

    @property
    def closed(self) -> bool:
        return self._closed

    def run(self, job: QueryJob, limits: QueryLimits) -> Reply:
        """Run one job on a free worker; the worker is replaced if it timed out or died."""
        if self._closed:
            raise WorkerUnavailable("the query pool is shut down")
        worker, reserved = self._acquire()
        if reserved:
            limits = limits.with_time_at_most(self.reserved_time_limit_ms)
        try:
            if not worker.alive:
                worker = self._replace(worker)
            header, body = worker.run(job, limits)
            pid = worker.pid
            if header.get("restart"):
                worker = self._replace(worker)
            return Reply(header, body, pid, reserved)
        except (WorkerTimedOut, WorkerDied, WorkerUnavailable) as error:
            if not self._closed:
                worker = self._replace(worker)
            if reserved and isinstance(error, WorkerTimedOut):
                raise ReservedTimedOut from None
            raise
        finally:
            if self._closed:
                worker.kill()
            else:
                self._release(worker, reserved=reserved)

    def close(self) -> None:
        """Stop every worker (idempotent; also run at interpreter exit)."""
        if self._closed or os.getpid() != self.owner_pid:
            return  # a forked child must not kill its parent's workers
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.kill()  # read-only workers hold nothing worth a graceful stop
        atexit.unregister(self.close)
        _OPEN_POOLS.discard(self)


def _take(idle: list[Worker]) -> Worker:
    """The most recently used idle worker that has started, else the newest: a replacement
    still opening its store (seconds, when it loads the dump into memory: store `auto`) is
    not given a query while a started worker is free."""
    for index in range(len(idle) - 1, -1, -1):
        if idle[index].started():
            return idle.pop(index)
    return idle.pop()


# Every open pool of this process, for `shutdown_all` (tests); closing drops it.
_OPEN_POOLS: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


def shutdown_all() -> None:
    """Stop every pool of this process (tests; interpreter exit does it too)."""
    for pool in list(_OPEN_POOLS):
        pool.close()
