"""publisher.store.embedded: which store the query workers open (`store` auto, disk, memory),
and that a worker holding the build in memory answers as the disk store does, within the same
limits (real worker processes, the seed dataset)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sparql_helpers import children, command_line

from publisher import formats
from publisher.dist import STORE_DIR, BuildInfo
from publisher.errors import StoreError
from publisher.settings import load_settings
from publisher.sparql.errors import QueryTimedOut
from publisher.sparql.job import QueryJob, QueryLimits
from publisher.store.embedded import EmbeddedStore, worker_config

BASE = "http://www.example/"
LIMITS = QueryLimits(rows=10_000, bytes=0, time_ms=30_000)
# Never ends on the seed dataset: a product of four copies of every statement.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
QUERIES = (
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    'SELECT ?s ?l WHERE { ?s ?p ?l FILTER(CONTAINS(STR(?l), "Xocalı") || LANG(?l) = "ru") }',
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
)


def _solutions(body: bytes) -> list[tuple]:
    """A SPARQL JSON body as a sorted list of rows (solution order is not an answer's part)."""
    data = json.loads(body)
    names = data["head"]["vars"]
    rows = [
        tuple(json.dumps(b.get(n), sort_keys=True) for n in names)
        for b in data["results"]["bindings"]
    ]
    return sorted(rows)


def _worker_command(store: EmbeddedStore) -> str:
    """The command line of the worker process that answers a query of `store`."""
    reply = store.pool().run(QueryJob(query=QUERIES[-1], base=BASE, format_name="json"), LIMITS)
    assert reply.worker_pid in children(os.getpid())
    return command_line(reply.worker_pid)


@pytest.fixture()
def open_stores(seed_dist: Path) -> Iterator:
    stores: list[EmbeddedStore] = []

    def make(**settings) -> EmbeddedStore:
        store = EmbeddedStore.open(
            seed_dist, settings=load_settings({"sparql_workers": 1, **settings}, environ={})
        )
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def test_auto_holds_a_build_in_memory_up_to_the_limit_and_reads_the_disk_beyond(
    seed_dist: Path,
) -> None:
    quads = BuildInfo.read(seed_dist).quads
    assert quads > 0

    def config(max_quads: int):
        return worker_config(seed_dist, mode="auto", memory_limit_mb=0, memory_max_quads=max_quads)

    dump = seed_dist / formats.dump_name(formats.N_QUADS)
    assert (config(quads).dump_path, config(quads).store_path) == (dump, None)
    assert (config(quads - 1).dump_path, config(quads - 1).store_path) == (
        None,
        seed_dist / STORE_DIR,
    )
    assert config(0).store_path == seed_dist / STORE_DIR  # 0: never in memory
    with pytest.raises(StoreError, match="auto, disk, memory"):
        worker_config(seed_dist, mode="ram", memory_limit_mb=0)


def test_the_default_store_is_auto_and_its_workers_load_the_dump(open_stores) -> None:
    assert load_settings({}, environ={}).store == "auto"
    store = open_stores()
    assert store.run(QueryJob(query=QUERIES[-1], base=BASE, format_name="json"), LIMITS).rows == 1
    command = _worker_command(store)
    assert "publisher.store.query_worker" in command and "--dump" in command, command
    assert "dataset.nq.gz" in command
    assert "--dump" not in _worker_command(open_stores(store="disk"))
    # Pages read the on-disk store in this process (a few quads each; no copy in memory).
    assert store.quads(limit=1)


def test_in_memory_workers_answer_as_the_disk_store(open_stores, seed_dist: Path) -> None:
    in_memory = open_stores(store="auto")
    on_disk = open_stores(store="disk")
    for query in QUERIES:
        job = QueryJob(query=query, base=BASE, format_name="json")
        memory_answer, disk_answer = in_memory.run(job, LIMITS), on_disk.run(job, LIMITS)
        assert memory_answer.rows == disk_answer.rows > 0, query
        assert _solutions(memory_answer.body) == _solutions(disk_answer.body), query
    # The limits hold as before: rows are cut the same way.
    job = QueryJob(query=QUERIES[0], base=BASE, format_name="json")
    cut = QueryLimits(rows=3, bytes=0, time_ms=30_000)
    assert (in_memory.run(job, cut).rows, in_memory.run(job, cut).truncated) == (3, True)


def test_a_runaway_on_an_in_memory_worker_is_stopped_and_the_worker_replaced(
    open_stores,
) -> None:
    store = open_stores(store="auto")
    count = QueryJob(query=QUERIES[-1], base=BASE, format_name="json")
    before = store.pool().run(count, LIMITS).worker_pid
    with pytest.raises(QueryTimedOut):
        store.run(
            QueryJob(query=RUNAWAY, base=BASE, format_name="json"),
            QueryLimits(rows=10, bytes=0, time_ms=500),
        )
    # The replacement loads the dump too and answers.
    assert store.run(count, LIMITS).rows == 1
    replacement = store.pool().run(count, LIMITS).worker_pid
    assert replacement != before and "--dump" in command_line(replacement)
