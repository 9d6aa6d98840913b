"""The query worker process: `python -m publisher.store.query_worker --store PATH ...`.

It sandboxes itself (no sockets, an address-space limit, a watchdog), opens the store
read-only (or loads the N-Quads dump into memory), says it is ready, then answers one job at a
time: run the query, serialize the result (``publisher.sparql.serialize``), send the bytes back.
It imports neither Flask nor rdflib, so that a replacement starts in about a tenth of a second.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from publisher import formats
from publisher.sparql.job import QueryJob, QueryLimits
from publisher.sparql.serialize import reply_header, serialize_result
from publisher.store.frames import read_frame, write_frame
from publisher.store.sandbox import Watchdog, deny_sockets, limit_memory
from publisher.store.union import load_dump


def open_oxigraph(*, store: str | None, dump: str | None) -> ox.Store:
    if store:
        return ox.Store.read_only(store)
    assert dump is not None
    return load_dump(Path(dump))


def run_job(store: ox.Store, job: QueryJob, limits: QueryLimits) -> tuple[dict[str, Any], bytes]:
    fmt = formats.by_name(job.format_name)
    assert fmt is not None, job.format_name
    started = time.perf_counter()
    try:
        result = store.query(job.query, base_iri=job.base, **job.dataset.oxigraph_options())
        serialized = serialize_result(
            result, fmt, max_rows=limits.rows, prefixes=job.prefixes, max_bytes=limits.bytes
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
    if network != "denied":
        print(f"query worker: sockets not denied ({network})", file=sys.stderr)
    limit_memory(args.memory_limit_mb)
    try:
        store = open_oxigraph(store=args.store, dump=args.dump)
    except (OSError, MemoryError) as error:
        write_frame(replies, {"ready": False, "message": f"cannot open the store: {error}"})
        sys.exit(1)
    write_frame(replies, {"ready": True, "pid": os.getpid()})
    while True:
        try:
            frame, _ = read_frame(jobs)
        except EOFError:
            return  # the pool closed our pipe: shut down
        job, limits = QueryJob.from_frame(frame)
        watchdog.arm(limits.time_s)
        header, body = run_job(store, job, limits)
        watchdog.disarm()
        write_frame(replies, header, body)
        if header.get("restart"):
            return


if __name__ == "__main__":
    main()
