"""publisher.store.query_worker with real worker processes: queries run on a thread whose stack
holds the longest chain (UNION, OPTIONAL, MINUS, BIND, operators) that the token limit admits.

Found by a hostile-input probe: 3,000 MINUS in a row, or 10,000 UNION, passed the nesting
check (no brackets nest) and crashed the worker that parsed them (SIGSEGV on an 8 MiB stack),
so every such request cost a 500 and a worker to start again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import ROOT

from publisher.dist import STORE_DIR
from publisher.settings import load_settings
from publisher.sparql.job import QueryJob, QueryLimits
from publisher.sparql.safety import significant_tokens
from publisher.store.query_worker import query_stack_mb
from publisher.store.workers import WorkerConfig, WorkerDied, WorkerPool

BASE = "http://www.example/"
LIMITS = QueryLimits(rows=10, bytes=0, time_ms=60_000)
MAX_TOKENS = load_settings({}, environ={}).sparql_max_query_tokens

CHAINS = {
    "3,000 MINUS": "SELECT * WHERE { ?s ?p ?o " + "MINUS { ?s <urn:x:q> ?o } " * 3_000 + "}",
    "3,000 BIND": "SELECT * WHERE { " + " ".join(f"BIND(1 AS ?v{i})" for i in range(3_000)) + " }",
    "8,000 UNION": "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * 8_000) + " } LIMIT 1",
    "8,000 +": "SELECT * WHERE { ?s ?p ?o FILTER(?o = 1" + " + 1" * 8_000 + ") }",
    # The deepest chain per token: three tokens a level, as many as the token limit admits.
    "OPTIONAL {} up to the token limit": (
        "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL {} " * ((MAX_TOKENS - 16) // 3) + "} LIMIT 1"
    ),
}


def job(query: str) -> QueryJob:
    return QueryJob(query=query, base=BASE, format_name="json")


@pytest.fixture()
def make_pool(seed_dist: Path) -> Iterator:
    pools: list[WorkerPool] = []

    def make(*, stack_mb: int) -> WorkerPool:
        config = WorkerConfig(store_path=seed_dist / STORE_DIR, stack_mb=stack_mb)
        pool = WorkerPool(config, size=1, queue_timeout_s=30)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def test_the_token_limit_edge_query_is_within_the_limit() -> None:
    query = CHAINS["OPTIONAL {} up to the token limit"]
    count = len(significant_tokens(query, max_tokens=MAX_TOKENS, max_depth=128, max_operators=0))
    assert MAX_TOKENS - 20 <= count <= MAX_TOKENS


@pytest.mark.parametrize("name", CHAINS)
def test_a_long_chain_is_answered_by_the_worker_it_ran_on(make_pool, name: str) -> None:
    pool = make_pool(stack_mb=query_stack_mb(MAX_TOKENS))
    reply = pool.run(job(CHAINS[name]), LIMITS)
    assert reply.header["ok"] is True, reply.header
    assert "results" in json.loads(reply.body)
    # The same worker answers the next query: it did not die.
    assert pool.run(job("ASK { ?s ?p ?o }"), LIMITS).worker_pid == reply.worker_pid


def test_on_a_default_thread_stack_the_same_chain_crashes_the_worker(make_pool) -> None:
    """What the stack is for: 8 MiB, the default of a thread here, overflows."""
    pool = make_pool(stack_mb=8)
    with pytest.raises(WorkerDied) as died:
        pool.run(job(CHAINS["3,000 MINUS"]), LIMITS)
    assert "SIGSEGV" in died.value.cause
    assert pool.run(job("ASK { ?s ?p ?o }"), LIMITS).header["ok"] is True  # replaced


def test_the_stack_grows_with_the_token_limit() -> None:
    assert query_stack_mb(MAX_TOKENS) > query_stack_mb(MAX_TOKENS // 10) > 32
    assert load_settings({}, environ={}).sparql_query_stack_mb == 0  # derived by default


def test_without_room_for_the_stack_queries_run_on_a_default_one() -> None:
    """A process whose address space cannot take the stack (a low RLIMIT_AS; strict
    overcommit alike) still runs its function, and says why on stderr."""
    code = (
        "import resource; from publisher.store.query_worker import on_large_stack\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "print(on_large_stack(lambda: 6 * 7, stack_mb=4096))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "42"
    assert "sparql_query_stack_mb" in done.stderr
