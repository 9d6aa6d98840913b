"""publisher.store.workers with real worker processes: run, kill at the time limit and
respawn, tell a crash from running out of memory, and the reserved lane for short queries."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sparql_helpers import children, command_line

from publisher.dist import STORE_DIR
from publisher.sparql.job import QueryJob, QueryLimits
from publisher.store.workers import (
    PoolBusy,
    PoolError,
    Reply,
    ReservedTimedOut,
    WorkerConfig,
    WorkerDied,
    WorkerPool,
    WorkerTimedOut,
    WorkerUnavailable,
)

BASE = "http://www.example/"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
# Never ends on the seed dataset: a product of four copies of every statement.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
LIMITS = QueryLimits(rows=100, bytes=0, time_ms=30_000)


def job(query: str) -> QueryJob:
    return QueryJob(query=query, base=BASE, format_name="json")


def worker_pids() -> set[int]:
    return {p for p in children(os.getpid()) if "publisher.store.query_worker" in command_line(p)}


@pytest.fixture()
def make_pool(seed_dist: Path) -> Iterator:
    pools: list[WorkerPool] = []

    def make(**options) -> WorkerPool:
        options.setdefault("size", 1)
        options.setdefault("queue_timeout_s", 30)
        pool = WorkerPool(WorkerConfig(store_path=seed_dist / STORE_DIR), **options)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def test_a_job_is_answered_and_the_worker_kept(make_pool) -> None:
    pool = make_pool()
    first = pool.run(job(COUNT), LIMITS)
    assert first.header["ok"] is True and first.header["rows"] == 1
    assert b'"n"' in first.body
    second = pool.run(job("ASK { ?s ?p ?o }"), LIMITS)
    assert second.body.startswith(b'{"head"') and second.worker_pid == first.worker_pid
    assert not second.reserved


def test_a_syntax_error_is_a_reply_not_a_death(make_pool) -> None:
    pool = make_pool()
    reply = pool.run(job("SELECT * WHERE {"), LIMITS)
    assert (reply.header["ok"], reply.header["error"]) == (False, "syntax")
    assert pool.run(job(COUNT), LIMITS).worker_pid == reply.worker_pid


def test_the_time_limit_kills_the_worker_and_a_fresh_one_takes_its_place(make_pool) -> None:
    pool = make_pool()
    before = pool.run(job(COUNT), LIMITS).worker_pid
    started = time.monotonic()
    with pytest.raises(WorkerTimedOut):
        pool.run(job(RUNAWAY), QueryLimits(rows=10, bytes=0, time_ms=500))
    assert time.monotonic() - started < 20  # stopped, not run to its end
    assert before not in worker_pids()  # killed and reaped
    after = pool.run(job(COUNT), LIMITS)
    assert after.header["ok"] is True and after.worker_pid != before


def test_a_started_worker_is_taken_before_a_replacement_that_is_still_starting(
    make_pool,
) -> None:
    pool = make_pool(size=2)
    pool.run(job(COUNT), LIMITS)
    deadline = time.monotonic() + 30
    while len(worker_pids()) < 2 or not all(w.started() for w in pool._idle):
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.05)
    originals = worker_pids()
    with pytest.raises(WorkerTimedOut):
        pool.run(job(RUNAWAY), QueryLimits(rows=10, bytes=0, time_ms=500))
    # The replacement (Python starting, then the store opening) is not ready yet; the other
    # original worker, idle and started, answers at once.
    answer = pool.run(job(COUNT), LIMITS)
    assert answer.header["ok"] is True and answer.worker_pid in originals
    assert len(worker_pids() - originals) == 1


def test_the_queue_timeout_does_not_count_the_wait_for_a_worker_that_is_starting(
    seed_dist: Path, tmp_path: Path
) -> None:
    # The worker loads its dump from a FIFO: it has started when the test writes the dump.
    fifo = tmp_path / "dataset.nq.gz"
    os.mkfifo(fifo)
    pool = WorkerPool(WorkerConfig(dump_path=fifo), size=1, queue_timeout_s=0.05)
    try:
        outcomes: list = []

        def ask(query: str) -> None:
            try:
                outcomes.append(pool.run(job(query), LIMITS))
            except PoolError as error:
                outcomes.append(error)

        first = threading.Thread(target=ask, args=(COUNT,))
        first.start()
        deadline = time.monotonic() + 10
        while pool._idle:  # the first query has taken the (starting) worker
            assert time.monotonic() < deadline
            time.sleep(0.001)
        second = threading.Thread(target=ask, args=("ASK { ?s ?p ?o }",))
        second.start()
        time.sleep(0.5)  # ten queue timeouts: the second query still waits, unrefused
        assert outcomes == []
        fifo.write_bytes((seed_dist / "dataset.nq.gz").read_bytes())
        first.join(timeout=60)
        second.join(timeout=60)
        assert [type(o) for o in outcomes] == [Reply, Reply], outcomes
        assert all(o.header["ok"] for o in outcomes)
        # Once the worker has started, a query waiting longer than the timeout is refused.
        blocker = threading.Thread(target=ask, args=(RUNAWAY,))
        blocker.start()
        while pool._idle:
            time.sleep(0.001)
        with pytest.raises(PoolBusy):
            pool.run(job(COUNT), LIMITS)
    finally:
        pool.close()  # kills the runaway (and a replacement waiting for the FIFO)


def run_and_signal(pool: WorkerPool, signum: int) -> WorkerDied:
    """Start the runaway query, send its worker `signum`, return how the pool saw the end."""
    pid = pool.run(job(COUNT), LIMITS).worker_pid
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            pool.run(job(RUNAWAY), LIMITS)
        except BaseException as error:
            outcome.append(error)

    runner = threading.Thread(target=run)
    runner.start()
    time.sleep(0.5)  # the query is running (or about to: the signal ends it either way)
    os.kill(pid, signum)
    runner.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], WorkerDied), outcome
    return outcome[0]


def test_a_crash_is_not_out_of_memory(make_pool) -> None:
    died = run_and_signal(make_pool(), signal.SIGSEGV)
    assert not died.out_of_memory
    assert died.cause == "killed by signal SIGSEGV"


def test_an_abort_is_out_of_memory(make_pool) -> None:
    # Rust aborts on a failed allocation under the address-space limit.
    pool = make_pool()
    died = run_and_signal(pool, signal.SIGABRT)
    assert died.out_of_memory
    assert pool.run(job(COUNT), LIMITS).header["ok"] is True  # replaced


def test_the_reserved_lane_takes_short_queries_while_the_general_workers_are_busy(
    make_pool,
) -> None:
    pool = make_pool(size=1, reserved=1, reserved_time_limit_ms=500, queue_timeout_s=0.5)
    pool.run(job(COUNT), LIMITS)  # both workers ready
    runaway: list[BaseException] = []

    def occupy() -> None:
        try:
            pool.run(job(RUNAWAY), QueryLimits(rows=10, bytes=0, time_ms=5_000))
        except BaseException as error:
            runaway.append(error)

    general = threading.Thread(target=occupy)
    general.start()
    time.sleep(0.5)  # the general worker is taken
    short = pool.run(job("ASK { ?s ?p ?o }"), LIMITS)
    assert short.reserved and short.header["ok"] is True
    # A long query that lands on the reserved worker gets its short limit only.
    started = time.monotonic()
    with pytest.raises(ReservedTimedOut):
        pool.run(job(RUNAWAY), LIMITS)
    assert time.monotonic() - started < 6
    general.join(timeout=60)
    assert len(runaway) == 1 and isinstance(runaway[0], WorkerTimedOut)


def run_expecting_timeout(pool: WorkerPool, limits: QueryLimits) -> None:
    with pytest.raises(WorkerTimedOut):
        pool.run(job(RUNAWAY), limits)


def test_a_full_pool_refuses_after_the_queue_timeout(make_pool) -> None:
    pool = make_pool(size=1, queue_timeout_s=0.3)
    pool.run(job(COUNT), LIMITS)
    occupied = threading.Thread(
        target=run_expecting_timeout, args=(pool, QueryLimits(rows=10, bytes=0, time_ms=3_000))
    )
    occupied.start()
    time.sleep(0.5)
    with pytest.raises(PoolBusy):
        pool.run(job(COUNT), LIMITS)
    occupied.join(timeout=60)


def test_close_stops_every_worker(make_pool) -> None:
    pool = make_pool(size=2, reserved=1)
    pool.run(job(COUNT), LIMITS)
    assert len(worker_pids()) == 3
    pool.close()
    assert worker_pids() == set()
    with pytest.raises(WorkerUnavailable):
        pool.run(job(COUNT), LIMITS)


def test_a_worker_that_cannot_open_its_store_is_unavailable(tmp_path: Path) -> None:
    pool = WorkerPool(WorkerConfig(store_path=tmp_path / "missing"), size=1, queue_timeout_s=5)
    try:
        with pytest.raises(WorkerUnavailable, match="cannot open the store"):
            pool.run(job(COUNT), LIMITS)
    finally:
        pool.close()
