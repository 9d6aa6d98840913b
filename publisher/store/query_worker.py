"""The query worker process: `python -m publisher.store.query_worker --store PATH ...`.

It sandboxes itself (no sockets, an address-space limit, a watchdog), opens the store
read-only (or loads the N-Quads dump into memory), says it is ready, then answers one job at a
time: run the query, serialize the result (``publisher.sparql.serialize``), send the bytes back.
It imports neither Flask nor rdflib, so that a replacement starts in about a tenth of a second.

The jobs run on a thread of their own with a large stack (`--stack-mb`, ``query_stack_mb``):
Oxigraph's parser, optimizer and evaluator recurse once per level of a chain (`{} UNION {}
UNION ...`, `OPTIONAL`, `MINUS`, `BIND`, `||`, `+`, a path `a/b/c...`), which the brackets'
nesting limit does not bound. On the 8 MiB of a default thread, 2,625 MINUS or BIND, about
7,000 UNION or `+` and about 8,000 triple patterns in a row overflowed the stack and killed
the worker (SIGSEGV; a 500, and a worker to start again for every such request).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pyoxigraph as ox

from publisher import formats
from publisher.sparql.job import QueryJob, QueryLimits
from publisher.sparql.serialize import reply_header, serialize_result
from publisher.store.frames import read_frame, write_frame
from publisher.store.sandbox import Watchdog, deny_sockets, limit_memory
from publisher.store.union import load_dump

if TYPE_CHECKING:
    from publisher.settings import Settings

T = TypeVar("T")

# Measured on pyoxigraph 0.5 (x86_64): the deepest level of the chains above took 3.05 KiB
# of stack (MINUS and BIND; UNION 1.2, `+` 1.2, triple patterns and path steps 1.0), and a
# level takes at least 3 tokens (`MINUS{}`, `UNION{}`): every query sparql_max_query_tokens
# admits then fits in 1.4 KiB per token (a third to spare) and a base for the rest.
STACK_BASE_MB = 32
STACK_KIB_PER_TOKEN = 1.4


def query_stack_mb(max_tokens: int) -> int:
    """The stack a query thread needs for the deepest chain `max_tokens` tokens can write."""
    return STACK_BASE_MB + int(max_tokens * STACK_KIB_PER_TOKEN / 1024) + 1


def configured_stack_mb(settings: Settings) -> int:
    """The setting sparql_query_stack_mb, or, when 0, what sparql_max_query_tokens needs."""
    stack_mb = int(settings.sparql_query_stack_mb)
    return stack_mb if stack_mb > 0 else query_stack_mb(int(settings.sparql_max_query_tokens))


def on_large_stack(function: Callable[[], T], *, stack_mb: int) -> T:
    """`function()` run on a new thread with a stack of `stack_mb` MiB (0: the default), its
    result returned or its exception (SystemExit too) raised here. Where the stack's address
    space cannot be reserved (a low RLIMIT_AS, strict overcommit), on a default stack, as
    before the large one, rather than not at all."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, function()))
        except BaseException as error:
            outcome.append((False, error))

    previous = threading.stack_size()
    for size_mb in (stack_mb, 0) if stack_mb > 0 else (0,):
        threading.stack_size(size_mb * 1024 * 1024)  # 0: the platform's default
        thread = threading.Thread(target=run, name="queries")
        try:
            thread.start()
            break
        except RuntimeError as error:
            if size_mb == 0:
                raise
            print(
                f"cannot reserve a {size_mb} MiB stack for queries ({error}): using the "
                "default (setting sparql_query_stack_mb)",
                file=sys.stderr,
            )
        finally:
            threading.stack_size(previous)
    thread.join()
    succeeded, value = outcome[0]
    if not succeeded:
        raise value
    return value


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
    parser.add_argument(
        "--stack-mb", type=int, default=0, help="the query thread's stack (0: the default)"
    )
    args = parser.parse_args(argv)

    # Keep the pipes on private descriptors; anything a library prints goes to stderr.
    jobs, replies = os.dup(0), os.dup(1)
    os.dup2(2, 1)
    os.close(0)

    watchdog = Watchdog()
    network = deny_sockets()
    if network != "denied":
        print(f"query worker: sockets not denied ({network})", file=sys.stderr)
    # The stack is address space that a query's data must not be refused for: on top.
    limit_memory(args.memory_limit_mb + args.stack_mb if args.memory_limit_mb > 0 else 0)
    try:
        store = open_oxigraph(store=args.store, dump=args.dump)
    except (OSError, MemoryError) as error:
        write_frame(replies, {"ready": False, "message": f"cannot open the store: {error}"})
        sys.exit(1)
    # Created after deny_sockets: the query thread inherits the seccomp filter.
    on_large_stack(lambda: _answer_jobs(store, jobs, replies, watchdog), stack_mb=args.stack_mb)


def _answer_jobs(store: ox.Store, jobs: int, replies: int, watchdog: Watchdog) -> None:
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
