"""Write a corpus of synthetic source documents (tests/source_corpus.py) as a data directory.

    .venv/bin/python bench/corpus.py --docs 10000 --seed 1 [--invalid K] --out /tmp/corpus

Then, e.g.: `.venv/bin/publisher build --data /tmp/corpus --out /tmp/corpus-dist` (with the
project's ontology/ and shapes/). Prints the summary (documents, files, quads, the injected
invalid files and their kinds) and the time taken.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
from source_corpus import write_corpus  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, required=True, help="number of source documents")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--invalid", type=int, default=0, help="how many documents to break")
    parser.add_argument("--out", type=Path, required=True, help="data directory to write")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    summary = write_corpus(args.out, docs=args.docs, seed=args.seed, invalid=args.invalid)
    elapsed = time.perf_counter() - started
    print(summary.text())
    print(f"wrote {args.out} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
