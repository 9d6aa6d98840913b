"""What the SPARQL pre-check costs per query: tokenizing, and the whole check_query.

    .venv/bin/python bench/precheck_cost.py [--queries 100] [--rounds 30] [--before SRC]

The queries are web_speed.py's five fresh-mix shapes with random constants (`--queries` of
each). Every query passes through publisher.sparql.safety before any store sees it, so this
is CPU each SPARQL request pays in the web process. With `--before SRC` (an older source
tree) the same modules are loaded from it as well, and rounds alternate between the two in
one process, so that both see the same machine; the tokens of both must be equal. Prints the
machine, the median and the fastest round of each, in µs per query, and the ratio of medians.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from machine import describe  # noqa: E402
from web_speed import make_query  # noqa: E402

SHAPES = ("lookup", "range", "aggregate", "provenance", "construct")
BASE = "http://bench.example/"


def load_modules(tree: Path, tag: str) -> tuple[ModuleType, ModuleType]:
    """publisher.sparql.lexer and .safety of `tree`, as modules of their own (`tag`)."""
    if tree == ROOT:
        from publisher.sparql import lexer, safety

        return lexer, safety
    saved = {name: module for name, module in sys.modules.items() if name.startswith("publisher")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(tree))
    try:
        from publisher.sparql import lexer, safety  # the older tree's

        assert Path(lexer.__file__).is_relative_to(tree), lexer.__file__
        return lexer, safety
    finally:
        sys.path.remove(str(tree))
        for name in [n for n in sys.modules if n.startswith("publisher")]:
            sys.modules[f"{tag}.{name}"] = sys.modules.pop(name)
        sys.modules.update(saved)


def per_query(work: Callable[[str], object], queries: list[str]) -> float:
    started = time.perf_counter()
    for query in queries:
        work(query)
    return (time.perf_counter() - started) / len(queries) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=100, help="queries of each shape")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--before", type=Path, help="an older source tree to compare with")
    args = parser.parse_args()
    print(f"machine: {describe()}")
    rng = random.Random(1)
    queries = [make_query(s, rng, 100_000) for s in SHAPES for _ in range(args.queries)]
    trees = {"this tree": load_modules(ROOT, "current")}
    if args.before is not None:
        trees["before"] = load_modules(args.before.resolve(), "before")
        mine, theirs = trees["this tree"][0], trees["before"][0]
        for query in queries:
            assert list(mine.tokens(query)) == list(theirs.tokens(query)), query
    timings: dict[tuple[str, str], list[float]] = {}
    for round_ in range(args.rounds):
        order = list(trees.items())
        for name, (lexer, safety) in order if round_ % 2 else reversed(order):

            def check(query: str, safety: ModuleType = safety) -> object:
                return safety.check_query(query, base=BASE, graphs=(), protocol_dataset=False)

            def tokenize(query: str, lexer: ModuleType = lexer) -> object:
                return list(lexer.tokens(query))

            timings.setdefault((name, "tokens"), []).append(per_query(tokenize, queries))
            timings.setdefault((name, "check_query"), []).append(per_query(check, queries))
    print(f"{len(queries)} queries, {args.rounds} rounds; µs per query, median (fastest round)")
    for (name, what), values in timings.items():
        print(f"  {name:10} {what:12} {statistics.median(values):7.1f} ({min(values):.1f})")
    if args.before is not None:
        for what in ("tokens", "check_query"):
            ratio = statistics.median(timings[("this tree", what)]) / statistics.median(
                timings[("before", what)]
            )
            print(f"  {what}: this tree / before = {ratio:.2f}")


if __name__ == "__main__":
    main()
