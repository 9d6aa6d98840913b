"""`publisher build` with each phase timed and its memory traced: where a build's time and peak go.

    .venv/bin/python bench/build_phases.py [--rss-trace FILE] -- build --data DIR --out DIST

Runs the CLI in this process with the build's phases wrapped (publisher.dataset.pipeline,
publish, dump_pieces): per phase its start, wall time, the CPU of the thread that ran it, the
resident size (VmRSS) at its start and end, and the largest resident size sampled (every 0.1 s)
while it ran. Process CPU and peak (own and children's) at the end. A profiling tool, not a
benchmark with a baseline: run it before and after a change on the same data (the machine line
says how busy the machine was). Not in run_all.py: it takes whatever `build` takes.
"""

from __future__ import annotations

import argparse
import functools
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import describe

from publisher.dataset import dump_pieces, pipeline, publish

PHASES = {
    pipeline: ["load", "validate", "_validate_beside_the_union", "publish"],
    publish: [
        "_write_dist",
        "store_union",
        "_write_store",
        "write_search_index",
        "_distinct_objects",
        "_write_pieces_and_dumps",
        "assemble_dumps",
        "_full_statistics",
        "_write_description_and_sums",
        "_swap_into_place",
    ],
    dump_pieces: ["homes_from_dataset", "write_all", "split_by_home", "render_and_write"],
}


def resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Tracer:
    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.rows: list[tuple[float, float, float, float, float, float, str, str]] = []
        self.samples: list[tuple[float, float]] = []
        self.active: dict[tuple[str, float], float] = {}  # phase -> largest RSS seen in it
        self.lock = threading.Lock()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            rss = resident_mb()
            self.samples.append((time.perf_counter() - self.start, rss))
            with self.lock:
                for key, peak in self.active.items():
                    self.active[key] = max(peak, rss)
            time.sleep(0.1)

    def wrap(self, module: object, name: str) -> None:
        function: Callable | None = getattr(module, name, None)
        if function is None:  # a phase another version of the code does not have
            return
        label = f"{module.__name__.rsplit('.', 1)[-1]}.{name}"  # type: ignore[attr-defined]

        @functools.wraps(function)
        def timed(*args, **kwargs):
            began, cpu, rss = time.perf_counter(), time.thread_time(), resident_mb()
            key = (label, began)
            with self.lock:
                self.active[key] = rss
            try:
                return function(*args, **kwargs)
            finally:
                with self.lock:
                    peak = self.active.pop(key)
                self.rows.append(
                    (
                        began - self.start,
                        time.perf_counter() - began,
                        time.thread_time() - cpu,
                        rss,
                        resident_mb(),
                        peak,
                        label,
                        threading.current_thread().name,
                    )
                )

        setattr(module, name, timed)

    def report(self) -> str:
        lines = [f"{'start':>7} {'wall':>7} {'cpu':>7} {'rss0':>6} {'rss1':>6} {'peak':>6}  phase"]
        for began, wall, cpu, rss0, rss1, peak, label, thread in sorted(self.rows):
            lines.append(
                f"{began:7.2f} {wall:7.2f} {cpu:7.2f} {rss0:6.0f} {rss1:6.0f} {peak:6.0f}"
                f"  {label:36} {thread}"
            )
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        lines.append(
            f"total {time.perf_counter() - self.start:.2f} s wall; CPU {time.process_time():.2f} s"
            f" (children {children.ru_utime + children.ru_stime:.2f} s); peak RSS"
            f" {own.ru_maxrss / 1024:.0f} MB (children {children.ru_maxrss / 1024:.0f} MB)"
        )
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rss-trace", type=Path, help="write 'seconds MB' samples here")
    parser.add_argument("cli", nargs=argparse.REMAINDER, help="-- then publisher's arguments")
    options = parser.parse_args()
    arguments = options.cli[1:] if options.cli[:1] == ["--"] else options.cli
    print(describe(), file=sys.stderr)
    tracer = Tracer()
    for module, names in PHASES.items():
        for name in names:
            tracer.wrap(module, name)
    # pipeline calls these by the names it imported
    pipeline.store_union = publish.store_union
    from publisher.cli import main as cli

    try:
        cli(arguments, standalone_mode=False)
    finally:
        print(tracer.report(), file=sys.stderr)
        if options.rss_trace:
            options.rss_trace.write_text(
                "".join(f"{at:.2f} {mb:.0f}\n" for at, mb in tracer.samples), encoding="utf-8"
            )


if __name__ == "__main__":
    main()
