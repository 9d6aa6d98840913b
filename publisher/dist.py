"""The layout of dist/: what a build writes and what serving reads, shared by both sides.

The builder (publisher.dataset) writes these files; the web tier, the store and the CLI read
them. Neither side imports the other: both import this module, so serving never loads the
builder (rdflib, pySHACL) and a file name is spelled once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

STORE_DIR = "store"  # the embedded Oxigraph store, opened read-only by every serving process
BUILD_INFO = "build.json"  # BuildInfo: the build's identity (ETag, Last-Modified)
CONTEXT_FILE = "context.jsonld"  # the JSON-LD context of every JSON-LD document
VOID_FILE = "void.ttl"  # the VoID/DCAT description served at /dataset
SHAPES_FILE = "shapes.ttl"  # the SHACL shapes served at /shapes
ONTOLOGY_FILE = "ontology.ttl"  # the ontology, as a plain file beside the dumps
SUMS_FILE = "SHA256SUMS"  # `sha256sum -c` over every file of dist/
CQ_DIR = "cq"  # the competency questions, the query page's examples (serving reads dist/ only)


@dataclass(frozen=True)
class BuildInfo:
    """The identity of one build: drives ETag and Last-Modified of every response."""

    build_id: str
    built_at: str  # ISO 8601, UTC
    base: str
    quads: int
    triples: int
    graphs: int

    @classmethod
    def read(cls, dist: Path) -> BuildInfo:
        return cls(**json.loads((dist / BUILD_INFO).read_text(encoding="utf-8")))

    def write(self, dist: Path) -> None:
        text = json.dumps(self.__dict__, indent=2, sort_keys=True) + "\n"
        (dist / BUILD_INFO).write_text(text, encoding="utf-8")


def cache_root(dist_dir: str | Path, configured: str) -> Path:
    """Where caches live (setting cache_dir): the setting, else beside dist/ (never inside:
    dist/ is the published build, swapped as a whole). builds/ is the serving side's,
    validation/ the builder's."""
    if configured:
        return Path(configured).resolve()
    dist = Path(dist_dir).resolve()
    return dist.parent / f"{dist.name}.cache"
