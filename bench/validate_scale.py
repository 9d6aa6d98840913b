"""Validation at scale: the SHACL gate on generated corpora of 1k and 10k source documents.

    .venv/bin/python bench/validate_scale.py [--docs 1000 10000] [--compare 100]
                                             [--workers 0] [--out bench/out/validate]
                                             [--data DIR] [--only-incremental]

For each size: writes (once, reused later) a corpus with tests/source_corpus.py (about 250
triples per document, a few injected errors), loads it, then times `validate_dataset` with the
default engine ("sparql": shapes compiled to SPARQL on pyoxigraph):

  full     a cold cache: every document validated;
  edit     after appending one triple to one document and reloading: that document only;
  warm     nothing changed: everything from the cache.

Then the incremental path (`validate_dataset(..., changed_files=[...])`, what a rebuild that knows
which files changed calls), same corpus, its own cache:

  cold     a cold cache, every unit planned and validated (and the dependency index written);
  edit+    after changing one figure of one document (a real change: that document is
           validated again), told which file changed: only the units it can affect planned;
  edit     the same edit undone, without changed_files (the full path with a warm cache),
           the baseline edit+ saves against.

--data DIR validates a copy of an existing corpus (e.g. bench/corpus.py's) instead of writing
one; the edited file is restored afterwards. --only-incremental skips the other rows.

Then the baseline, same run: pySHACL (the reference engine) against the SPARQL engine on the
same `--compare` documents without cache, and whether their findings are identical. Prints the
machine (platform, cores, memory), the figures, and peak memory (this process and its workers).
Loading (parsing the files) is timed apart: it belongs to the build, not to the gate.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from machine import describe  # noqa: E402
from source_corpus import write_corpus  # noqa: E402

from publisher.dataset.load import load_dataset, load_shapes  # noqa: E402
from publisher.dataset.validate import Report, validate_dataset  # noqa: E402

BASE = "http://127.0.0.1:8080/"
SHARED = ["graph/ontology", "graph/curated", "graph/provenance"]


def peak_memory_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def corpus(out: Path, docs: int) -> Path:
    directory = out / f"corpus-{docs}"
    if not (directory / "curated.trig").exists():
        started = time.perf_counter()
        shutil.rmtree(directory, ignore_errors=True)
        summary = write_corpus(directory, docs=docs, seed=1, invalid=max(1, docs // 1000))
        print(
            f"  wrote {docs} documents ({len(summary.invalid)} invalid) in "
            f"{time.perf_counter() - started:.1f} s"
        )
    return directory


def timed_validate(
    data: Path,
    *,
    engine: str,
    workers: int,
    cache: Path | None,
    changed: list[Path] | None = None,
) -> tuple:
    started = time.perf_counter()
    dataset = load_dataset(base=BASE, ontology_dir=ROOT / "ontology", data_dir=data)
    shapes = load_shapes(ROOT / "shapes", base=BASE)
    loaded = time.perf_counter()
    report = validate_dataset(
        dataset,
        shapes,
        shared_graphs=SHARED,
        root=data,
        engine=engine,
        workers=workers,
        cache_dir=cache,
        changed_files=changed,
    )
    done = time.perf_counter()
    return report, len(dataset), loaded - started, done - loaded


def line(label: str, report: Report, quads: int, load_s: float, validate_s: float) -> None:
    print(
        f"  {label:<6} {quads:>9} quads  load {load_s:6.1f} s  validate {validate_s:7.2f} s  "
        f"validated {report.validated:>6}  from cache {report.from_cache:>6}  "
        f"findings {len(report.findings):>4}  planned {report.planned:>6}  engine {report.engine}"
    )


def scale(out: Path, docs: int, workers: int) -> None:
    print(f"\n{docs} documents (workers {workers or os.cpu_count()}):")
    data = corpus(out, docs)
    cache = out / f"cache-{docs}"
    shutil.rmtree(cache, ignore_errors=True)
    line("full", *timed_validate(data, engine="sparql", workers=workers, cache=cache))
    edited = sorted((data / "sources").glob("*.trig"))[docs // 2]
    original = edited.read_bytes()
    graph = f"graph/{edited.stem}"
    try:
        with edited.open("a", encoding="utf-8") as stream:
            stream.write(
                f"\n<{graph}> {{ <id/note/bench-edit> "
                f'<http://www.w3.org/2000/01/rdf-schema#comment> "Xocalı {time.time()}"@az . }}\n'
            )
        line("edit", *timed_validate(data, engine="sparql", workers=workers, cache=cache))
        line("warm", *timed_validate(data, engine="sparql", workers=workers, cache=cache))
    finally:
        edited.write_bytes(original)


def incremental(out: Path, docs: int, workers: int, data: Path | None) -> None:
    data = data or corpus(out, docs)
    count = len(list((data / "sources").glob("*.trig")))
    print(f"\nIncremental, {count} documents (workers {workers or os.cpu_count()}):")
    cache = out / f"cache-incremental-{count}"
    shutil.rmtree(cache, ignore_errors=True)
    line("cold", *timed_validate(data, engine="sparql", workers=workers, cache=cache))
    edited = sorted((data / "sources").glob("*.trig"))[count // 2]
    original = edited.read_bytes()
    text = original.decode("utf-8")
    figure = re.search(r"schema:value (\d+) ;", text)
    if figure is None:
        raise SystemExit(f"{edited}: no schema:value to change")
    changed = text.replace(figure.group(0), f"schema:value {int(figure.group(1)) + 1} ;", 1)
    try:
        edited.write_text(changed, encoding="utf-8")
        line(
            "edit+",
            *timed_validate(data, engine="sparql", workers=workers, cache=cache, changed=[edited]),
        )
        edited.write_bytes(original)
        line("edit", *timed_validate(data, engine="sparql", workers=workers, cache=cache))
    finally:
        edited.write_bytes(original)


def compare(out: Path, docs: int, workers: int) -> None:
    print(f"\nBaseline: the same {docs} documents, no cache (workers {workers or os.cpu_count()}):")
    data = corpus(out, docs)
    reports = {}
    for engine in ("pyshacl", "sparql"):
        report, quads, load_s, validate_s = timed_validate(
            data, engine=engine, workers=workers, cache=None
        )
        line(engine[:6], report, quads, load_s, validate_s)
        reports[engine] = (report, validate_s)
    (reference, slow), (fast, quick) = reports["pyshacl"], reports["sparql"]
    print(
        f"  identical findings: {reference.findings == fast.findings} "
        f"({len(fast.findings)}); sparql is {slow / quick:.0f}x faster"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--compare", type=int, default=100, help="documents for pySHACL vs SPARQL")
    parser.add_argument("--workers", type=int, default=0, help="validation_workers (0 = CPUs)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "validate")
    parser.add_argument("--data", type=Path, help="an existing corpus directory (edited, restored)")
    parser.add_argument(
        "--only-incremental", action="store_true", help="only the cold / edit+ / edit rows"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {describe()}")
    started = time.perf_counter()
    if args.compare and not args.only_incremental:
        compare(args.out, args.compare, args.workers)
    for docs in args.docs:
        if not args.only_incremental and not args.data:
            scale(args.out, docs, args.workers)
        incremental(args.out, docs, args.workers, args.data)
    own, children = peak_memory_mb()
    print(
        f"\nPeak memory: this process {own:.0f} MB, largest worker {children:.0f} MB. "
        f"Total {time.perf_counter() - started:.0f} s."
    )


if __name__ == "__main__":
    main()
