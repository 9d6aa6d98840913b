"""Virtuoso's bulk load time for an N-Quads file, beside `oxigraph load` of the same file.

    .venv/bin/python bench/virtuoso_bulk_load.py FILE.nq[.gz] [--union-graph urn:publisher:union]
    .venv/bin/python bench/virtuoso_bulk_load.py --triples 1000000    # the toy corpus, generated

For the build-vs-load comparison of issue 9: `publisher build --no-validate` of the same data is
timed elsewhere; this gives the two database loads it is compared with. Virtuoso's figure is
ld_dir + rdf_loader_run + checkpoint on a fresh database (tests/virtuoso_server.py, loopback
ports, its own directory, stopped at the end); Oxigraph's is `oxigraph load` + `optimize`.
Triples outside a named graph (a dump's union default graph) go into --union-graph.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
from corpus import write_corpus  # noqa: E402
from machine import describe  # noqa: E402
from virtuoso_server import VirtuosoServer, virtuoso_available  # noqa: E402


def count_lines(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        return sum(1 for line in stream if line.strip() and not line.startswith(b"#"))


def oxigraph_load(path: Path, workdir: Path) -> float | None:
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(oxigraph).exists():
        return None
    location = workdir / "oxigraph"
    started = time.perf_counter()
    subprocess.run(
        [oxigraph, "load", "--location", str(location), "--file", str(path)],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [oxigraph, "optimize", "--location", str(location)], check=True, capture_output=True
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, help="N-Quads (or TriG), optionally .gz")
    parser.add_argument("--triples", type=int, default=100_000, help="toy corpus size")
    parser.add_argument("--union-graph", default="urn:publisher:union")
    parser.add_argument(
        "--buffers", type=int, default=200_000, help="Virtuoso NumberOfBuffers (8 KiB pages)"
    )
    options = parser.parse_args()
    reason = virtuoso_available()
    if reason:
        sys.exit(f"cannot run: {reason}")
    print("machine:", describe())
    with tempfile.TemporaryDirectory(prefix="virtuoso-bulk-") as scratch:
        workdir = Path(scratch)
        path = options.file
        if path is None:
            path = write_corpus(
                workdir / "corpus", triples=options.triples, base="http://b.example/"
            )
        lines = count_lines(path)
        print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB, {lines:,} statements)")
        with VirtuosoServer(workdir / "virtuoso", buffers=options.buffers) as virtuoso:
            seconds = virtuoso.bulk_load(path, graph=options.union_graph)
            loaded = virtuoso.isql("SELECT COUNT(*) FROM DB.DBA.RDF_QUAD;").split()
        print(
            f"Virtuoso 7 bulk load (ld_dir + rdf_loader_run + checkpoint): {seconds:.2f} s, "
            f"{lines / seconds:,.0f} statements/s (RDF_QUAD rows after: {loaded[-1] if loaded else '?'})"
        )
        baseline = oxigraph_load(path, workdir)
        if baseline is None:
            print("oxigraph load: the `oxigraph` command is not installed (test extra)")
        else:
            print(
                f"oxigraph load + optimize (baseline): {baseline:.2f} s, "
                f"{lines / baseline:,.0f} statements/s; Virtuoso/Oxigraph {seconds / baseline:.2f}x"
            )


if __name__ == "__main__":
    main()
