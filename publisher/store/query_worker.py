"""The query worker process: `python -m publisher.store.query_worker --store PATH ...`.

It sandboxes itself (no sockets, an address-space limit, a watchdog), opens the store
read-only (or loads the N-Quads dump into memory), says it is ready, then answers one job at a
time: run the query, serialize the result (``publisher.sparql.serialize``), send the bytes back.
It imports neither Flask nor rdflib, so that a replacement starts in about a tenth of a second.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from publisher import formats
from publisher.sparql.serialize import reply_header, serialize_result
from publisher.store.frames import read_frame, write_frame
from publisher.store.sandbox import Watchdog, deny_sockets, limit_memory
from publisher.store.union import ensure_union_default_graph


def open_store(*, store: str | None, dump: str | None) -> ox.Store:
    if store:
        return ox.Store.read_only(store)
    assert dump is not None
    loaded = ox.Store()
    with gzip.open(Path(dump), "rb") as stream:
        loaded.bulk_load(stream, format=ox.RdfFormat.N_QUADS)
    return ensure_union_default_graph(loaded)


def run_job(store: ox.Store, job: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    options: dict[str, Any] = {"base_iri": job["base_iri"]}
    # A "union" job reads the store's default graph: the build wrote the union of the named
    # graphs there as a set (pyoxigraph's use_default_graph_as_union is a bag, oxigraph#1919).
    if job.get("default_graphs") is not None:
        options["default_graph"] = [ox.NamedNode(g) for g in job["default_graphs"]]
    if job.get("named_graphs") is not None:
        options["named_graphs"] = [ox.NamedNode(g) for g in job["named_graphs"]]
    fmt = formats.by_name(job["format"])
    assert fmt is not None, job["format"]
    started = time.perf_counter()
    try:
        result = store.query(job["query"], **options)
        serialized = serialize_result(
            result,
            fmt,
            max_rows=job["max_rows"],
            prefixes=job.get("prefixes") or {},
            max_bytes=job.get("max_bytes", 0),
        )
    except SyntaxError as error:
        return {"ok": False, "error": "syntax", "message": str(error)}, b""
    except MemoryError:
        return {"ok": False, "error": "memory", "message": "out of memory", "restart": True}, b""
    except (OSError, ValueError, TypeError, RuntimeError) as error:
        # Evaluation errors (e.g. a SERVICE that slipped through finds no network).
        return {"ok": False, "error": "evaluation", "message": str(error)}, b""
    header = reply_header(serialized, elapsed_s=time.perf_counter() - started)
    return header, serialized.body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="publisher.store.query_worker")
    parser.add_argument("--store", help="on-disk store directory, opened read-only")
    parser.add_argument("--dump", help="N-Quads .gz dump loaded into memory instead")
    parser.add_argument("--memory-limit-mb", type=int, default=0)
    args = parser.parse_args(argv)

    # Keep the pipes on private descriptors; anything a library prints goes to stderr.
    jobs, replies = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    os.close(0)

    watchdog = Watchdog()
    network = deny_sockets()
    limit_memory(args.memory_limit_mb)
    try:
        store = open_store(store=args.store, dump=args.dump)
    except (OSError, MemoryError) as error:
        write_frame(replies, {"ready": False, "message": f"cannot open the store: {error}"})
        sys.exit(1)
    write_frame(replies, {"ready": True, "pid": os.getpid(), "network": network})
    while True:
        try:
            job, _ = read_frame(jobs)
        except EOFError:
            return  # the pool closed our pipe: shut down
        watchdog.arm(float(job.get("time_limit_s", 60)))
        header, body = run_job(store, job)
        watchdog.disarm()
        write_frame(replies, header, body)
        if header.get("restart"):
            return


if __name__ == "__main__":
    main()
