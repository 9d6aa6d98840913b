"""A synthetic corpus of any size, for the runaway-query tests and the benchmarks.

Deterministic (seeded): the same arguments always give the same N-Quads. Entities of ten
classes, spread over ten named graphs, each with a type, a label, an integer value, a group
and a link to another entity: five triples per entity.

    python tests/corpus.py --triples 100000 --out /tmp/corpus/data
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

TRIPLES_PER_ENTITY = 5
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def corpus_lines(*, triples: int, base: str, seed: int = 42, graphs: int = 10) -> list[str]:
    """N-Quads lines of at least `triples` triples, IRIs under `base`."""
    rng = random.Random(seed)
    entities = -(-triples // TRIPLES_PER_ENTITY)
    lines = []
    for i in range(entities):
        subject = f"<{base}id/entity/{i}>"
        graph = f"<{base}graph/part-{i % graphs}>"
        target = rng.randrange(entities)
        lines += [
            f"{subject} <{RDF_TYPE}> <{base}def/Class{i % 10}> {graph} .",
            f'{subject} <{RDFS_LABEL}> "Entity {i}"@en {graph} .',
            f'{subject} <{base}def/value> "{rng.randrange(1_000_000)}"^^<{XSD_INTEGER}> {graph} .',
            f"{subject} <{base}def/group> <{base}id/group/{i % 100}> {graph} .",
            f"{subject} <{base}def/linksTo> <{base}id/entity/{target}> {graph} .",
        ]
    return lines


def write_corpus(directory: Path, *, triples: int = 100_000, base: str, seed: int = 42) -> Path:
    """Write `corpus.nq` into `directory` (created) and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "corpus.nq"
    path.write_text(
        "\n".join(corpus_lines(triples=triples, base=base, seed=seed)) + "\n", encoding="utf-8"
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--base", default="http://127.0.0.1:8080/")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True, help="directory to write corpus.nq")
    args = parser.parse_args()
    path = write_corpus(args.out, triples=args.triples, base=args.base, seed=args.seed)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
