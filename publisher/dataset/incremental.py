"""The incremental rebuild: the previous build's store plus the delta of the files that changed.

A full build loads every file, validates every document and writes every part of dist/. After
a curator edits one document of ten thousand, almost all of that is the same again. So every
build leaves a manifest in the cache (``<cache_dir>/incremental/``): the content hash of every
data file, the graphs each file writes, the subjects a file states in a graph that several
files write (graph/provenance gets a few quads from every source file), and a copy of each
file's bytes (to know what an edited file used to say). The next build compares the files
with it and, when few changed and nothing else did, does this instead of a full build:

1. the previous dist/store is checkpointed into the new build (RocksDB hard links: 0.2 s);
2. the quads the changed files no longer state are removed, unless another file still states
   them, and the new ones are added; the union default graph follows as a set;
3. the gate validates what the change can affect (validation caches the rest);
4. dist/ is written from that store, as a full build writes it, and swapped in atomically.

Anything else falls back to a full build, and says why: no manifest, another base or settings
or ontology or shapes or publisher code, a previous dist/ that is not the one the manifest
describes, too many changed files, or a changed file with blank nodes (a re-parse names them
afresh, so the quads it used to state cannot be found again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

import publisher
from publisher.dataset.load import Dataset, authoring_files, file_quads, rdf_files
from publisher.dataset.trash import remove_later
from publisher.dist import STORE_DIR, BuildInfo
from publisher.settings import Settings

if TYPE_CHECKING:
    from publisher.dataset.dump_pieces import Homes

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
MANIFEST_FILE = "manifest.json"
COPIES_DIR = "files"
# Above this share of changed files a full build is about as fast, and simpler.
MAX_CHANGED_SHARE = 0.1
MIN_CHANGED_LIMIT = 50
# A file whose size and modification time are as recorded is taken as unchanged without
# reading it (as git's index does), unless it was modified this close to when it was recorded:
# a second write within the filesystem's timestamp granularity would keep the same mtime.
RACY_NS = 2_000_000_000


def incremental_dir(cache: Path) -> Path:
    return cache / "incremental"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tree_digest(paths: list[Path], *, root: Path | None = None) -> str:
    digest = hashlib.sha256()
    for path in paths:
        name = str(path.relative_to(root)) if root else str(path)
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def data_name(path: Path, data_dir: Path) -> str | None:
    """A data file's name relative to the data directory (None: not under it, e.g. the
    ontology). Path arithmetic first: resolving every path costs seconds at 10k files."""
    try:
        return str(path.relative_to(data_dir))
    except ValueError:
        pass
    try:
        return str(path.resolve().relative_to(data_dir.resolve()))
    except ValueError:
        return None


def fingerprint(settings: Settings) -> str:
    """Everything besides the data files that a build's output depends on."""
    code = Path(publisher.__file__).resolve().parent
    parts = {
        "version": publisher.__version__,
        "code": _tree_digest(sorted(code.rglob("*.py")), root=code),
        "settings": {key: str(settings[key]) for key in sorted(settings)},
        "ontology": _tree_digest(rdf_files(Path(settings.ontology_dir)))
        if settings.ontology_dir
        else "",
        "shapes": _tree_digest(rdf_files(Path(settings.shapes_dir))) if settings.shapes_dir else "",
    }
    return sha256_bytes(json.dumps(parts, sort_keys=True).encode())


@dataclass
class Manifest:
    """What the last build was made of (written after its swap)."""

    fingerprint: str
    build_id: str
    # data-dir-relative path -> {"sha256", "graphs", "size", "stat"}; "stat" is
    # [size, mtime_ns, inode] when the file can be trusted unchanged while they stay so
    files: dict[str, dict]
    # graph written by several files -> subject (N-Triples form) -> files stating it there
    shared_subjects: dict[str, dict[str, list[str]]]
    quads: int
    triples: int
    pieces: str = ""  # the directory (in incremental/) of the dumps' pieces of this build
    # Whether the gate validated every file of this build: the next build may then validate
    # only what changed (validation's cache holds the rest).
    validated: bool = False
    version: int = MANIFEST_VERSION

    @classmethod
    def read(cls, directory: Path) -> Manifest | None:
        try:
            values = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
            manifest = cls(**values)
        except (OSError, ValueError, TypeError):
            return None
        return manifest if manifest.version == MANIFEST_VERSION else None

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        staging = directory / f".{MANIFEST_FILE}.{os.getpid()}"
        staging.write_text(json.dumps(self.__dict__, sort_keys=True), encoding="utf-8")
        os.replace(staging, directory / MANIFEST_FILE)


def _keep_copies(directory: Path, *, wanted: set[str], new: dict[str, bytes]) -> None:
    """Content-addressed copies of the data files (what an edited file used to say): `new`
    written, copies no file refers to any more (`wanted`: the digests) removed."""
    copies = directory / COPIES_DIR
    copies.mkdir(parents=True, exist_ok=True)
    for existing in copies.iterdir():
        if existing.name not in wanted:
            existing.unlink()
    for data in new.values():
        path = copies / sha256_bytes(data)
        if not path.exists():
            path.write_bytes(data)


def _shared_subjects(
    graph_files: dict[str, set[str]], file_subjects: dict[str, dict[str, set[str]]]
) -> dict[str, dict[str, list[str]]]:
    shared: dict[str, dict[str, list[str]]] = {}
    for graph, files in graph_files.items():
        if len(files) < 2:
            continue
        by_subject: dict[str, set[str]] = defaultdict(set)
        for name in files:
            for subject in file_subjects.get(name, {}).get(graph, ()):
                by_subject[subject].add(name)
        shared[graph] = {s: sorted(f) for s, f in sorted(by_subject.items())}
    return shared


def new_pieces_dir(cache: Path) -> Path:
    """A directory of its own for a build's pieces (the previous build's stay until the
    manifest no longer names them)."""
    directory = incremental_dir(cache) / f"pieces-{os.getpid()}-{time.time_ns()}"
    directory.mkdir(parents=True)
    return directory


def _drop_other_pieces(cache: Path, keep: str) -> None:
    remove_later([d for d in incremental_dir(cache).glob("pieces-*") if d.name != keep])


def record_full_build(
    settings: Settings,
    dataset: Dataset,
    info: BuildInfo,
    cache: Path,
    *,
    pieces: Path,
    validated: bool,
) -> None:
    """After a full build: the manifest the next build compares the files with."""
    data_dir = Path(settings.data_dir)
    contents: dict[str, bytes] = {}
    graphs: dict[str, set[str]] = defaultdict(set)
    graph_files: dict[str, set[str]] = defaultdict(set)
    names: dict[Path, str | None] = {}
    stats: dict[str, list[int] | None] = {}
    for path, forced in dataset.files:
        names[path] = None if forced is not None else data_name(path, data_dir)
        if names[path] is not None:  # not the ontology: part of the fingerprint
            stats[names[path]] = trusted_stat(path)
            contents[names[path]] = path.read_bytes()
    for graph, paths in dataset.graph_files.items():
        for path in paths:
            name = names.get(path)
            if name is not None:
                graphs[name].add(graph)
                graph_files[graph].add(name)
    file_subjects = _file_subjects(dataset, names=names, graph_files=graph_files)
    directory = incremental_dir(cache)
    digests = {name: sha256_bytes(data) for name, data in contents.items()}
    _keep_copies(directory, wanted=set(digests.values()), new=contents)
    Manifest(
        fingerprint=fingerprint(settings),
        build_id=info.build_id,
        files={
            name: {
                "sha256": digests[name],
                "graphs": sorted(graphs[name]),
                "size": len(contents[name]),
                "stat": stats[name],
            }
            for name in sorted(contents)
        },
        shared_subjects=_shared_subjects(graph_files, file_subjects),
        quads=info.quads,
        triples=info.triples,
        pieces=pieces.name,
        validated=validated,
    ).write(directory)
    _drop_other_pieces(cache, pieces.name)


def _file_subjects(
    dataset: Dataset, *, names: dict[Path, str | None], graph_files: dict[str, set[str]]
) -> dict[str, dict[str, set[str]]]:
    """file -> graph -> subjects, for the graphs several files write. The loader noted them
    for dataset formats; a triple-format file is read again here (rare: two files whose
    names give the same graph)."""
    result: dict[str, dict[str, set[str]]] = {}
    multi = {graph for graph, files in graph_files.items() if len(files) > 1}
    if not multi:
        return result
    for path, _forced in dataset.files:
        name = names[path]
        if name is None:
            continue
        noted = dataset.subjects_by_graph(path)
        result[name] = {g: set(s) for g, s in noted.items() if g in multi}
    return result


class NotIncremental(Exception):
    """Why this build cannot be incremental (a full build follows)."""


@dataclass
class Delta:
    """What the changed files change in the store."""

    changed: list[str]  # data-dir-relative names: modified, added and deleted files
    removed: set[ox.Quad] = field(default_factory=set)
    added: set[ox.Quad] = field(default_factory=set)
    union_removed: set[ox.Triple] = field(default_factory=set)
    union_added: set[ox.Triple] = field(default_factory=set)
    # Every quad a changed file states or stated: where a subject lives (its home file) can
    # change even when the quad stays (another file states it too).
    touched: set[ox.Quad] = field(default_factory=set)

    def subjects(self) -> set[str]:
        """IRIs (and blank nodes) whose statements changed in some graph."""
        return {
            f"_:{q.subject.value}" if isinstance(q.subject, ox.BlankNode) else q.subject.value
            for q in self.removed | self.added
        }


@dataclass
class Plan:
    manifest: Manifest
    current: dict[str, str]  # name -> sha256 of the files now
    contents: dict[str, bytes]  # name -> bytes of the changed files that exist now
    changed: list[str]
    stats: dict[str, list[int] | None] = field(default_factory=dict)  # name -> trusted_stat


def trusted_stat(path: Path | str, *, now_ns: int | None = None) -> list[int] | None:
    """[size, mtime_ns, inode] of a file read now, or None when it was modified too recently
    for an unchanged stat to prove unchanged content later (RACY_NS)."""
    status = os.stat(path)
    now_ns = time.time_ns() if now_ns is None else now_ns
    if status.st_mtime_ns > now_ns - RACY_NS:
        return None
    return [status.st_size, status.st_mtime_ns, status.st_ino]


def stamps(plan_: Plan, *, data_dir: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of the data files the plan looked at, keyed as the validation index
    keys them; a racy file is left out (looked at again)."""
    from publisher.dataset.validation_units import file_key

    return {
        file_key(data_dir / name): (stat[0], stat[1])
        for name, stat in plan_.stats.items()
        if stat is not None
    }


def plan(settings: Settings, cache: Path) -> Plan:
    """Compare the data files with the manifest; raise NotIncremental with the reason."""
    directory = incremental_dir(cache)
    manifest = Manifest.read(directory)
    if manifest is None:
        raise NotIncremental("no manifest of a previous build")
    dist = Path(settings.dist_dir)
    try:
        previous = BuildInfo.read(dist)
    except (OSError, ValueError, TypeError) as error:
        raise NotIncremental(f"no previous build in {dist}") from error
    if previous.build_id != manifest.build_id or not (dist / STORE_DIR).is_dir():
        raise NotIncremental(f"{dist} is not the build the manifest describes")
    if not manifest.pieces or not (directory / manifest.pieces).is_dir():
        raise NotIncremental("the previous build's dump pieces are missing")
    if manifest.fingerprint != fingerprint(settings):
        raise NotIncremental("settings, ontology, shapes or publisher code changed")
    data_dir = Path(settings.data_dir).resolve()
    current: dict[str, str] = {}
    contents: dict[str, bytes] = {}
    changed: list[str] = []
    stats: dict[str, list[int] | None] = {}
    now_ns = time.time_ns()
    for name, path in authoring_files(data_dir):
        recorded = manifest.files.get(name, {})
        stats[name] = trusted_stat(path, now_ns=now_ns)
        if stats[name] is not None and recorded.get("stat") == stats[name]:
            current[name] = recorded["sha256"]
            continue
        with open(path, "rb") as stream:
            data = stream.read()
        current[name] = sha256_bytes(data)
        if recorded.get("sha256") != current[name]:
            changed.append(name)
            contents[name] = data
    changed += sorted(set(manifest.files) - set(current))
    if not current:
        raise NotIncremental(f"no RDF files in {data_dir}")
    limit = max(MIN_CHANGED_LIMIT, int(MAX_CHANGED_SHARE * len(current)))
    if len(changed) > limit:
        raise NotIncremental(f"{len(changed)} files changed (more than {limit})")
    return Plan(
        manifest=manifest,
        current=current,
        contents=contents,
        changed=sorted(changed),
        stats=stats,
    )


def _quads_of(path: Path, *, base: str) -> set[ox.Quad]:
    quads = file_quads(path, base=base)
    if any(isinstance(term, ox.BlankNode) for q in quads for term in (q.subject, q.object)):
        raise NotIncremental(f"{path.name} has blank nodes")
    return quads


def compute_delta(plan_: Plan, *, settings: Settings, cache: Path) -> Delta:
    """The quads to remove and to add (before touching any store)."""
    base = settings.base_uri
    data_dir = Path(settings.data_dir).resolve()
    copies = incremental_dir(cache) / COPIES_DIR
    manifest = plan_.manifest
    delta = Delta(changed=plan_.changed)
    old: set[ox.Quad] = set()
    new: set[ox.Quad] = set()
    for name in plan_.changed:
        if name in manifest.files:
            copy = copies / manifest.files[name]["sha256"]
            if not copy.is_file():
                raise NotIncremental(f"the copy of {name} is missing")
            old |= _quads_of(_as_named(copy, name, cache), base=base)
        if name in plan_.current:
            new |= _quads_of(data_dir / name, base=base)
    removed = old - new
    # A quad an unchanged file also states stays.
    changed = set(plan_.changed)
    for quad in list(removed):
        graph = quad.graph_name.value
        others = manifest.shared_subjects.get(graph, {}).get(str(quad.subject), [])
        for other in others:
            if other in changed:
                continue
            copy = copies / manifest.files[other]["sha256"]
            if quad in _quads_of(_as_named(copy, other, cache), base=base):
                removed.discard(quad)
                break
    delta.removed = removed
    delta.added = new - old
    delta.touched = old | new
    return delta


def _as_named(copy: Path, name: str, cache: Path) -> Path:
    """A copy under the file's own name (the parser picks the format by extension, and the
    fallback graph of a triple format comes from the file's stem)."""
    target = incremental_dir(cache) / "parse" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(copy, target)
    return target


def apply_delta(store: ox.Store, delta: Delta) -> None:
    """Named graphs first, then the union default graph as a set: a triple leaves it when no
    graph states it any more, and joins it when the first graph does."""
    default = ox.DefaultGraph()
    for quad in delta.removed:
        store.remove(quad)
    store.extend(delta.added)
    for quad in delta.removed:
        triple = ox.Triple(quad.subject, quad.predicate, quad.object)
        still = any(
            not isinstance(q.graph_name, ox.DefaultGraph)
            for q in store.quads_for_pattern(quad.subject, quad.predicate, quad.object, None)
        )
        if not still:
            store.remove(ox.Quad(quad.subject, quad.predicate, quad.object, default))
            delta.union_removed.add(triple)
    for quad in delta.added:
        triple = ox.Triple(quad.subject, quad.predicate, quad.object)
        union = ox.Quad(quad.subject, quad.predicate, quad.object, default)
        if union not in store:
            store.add(union)
            delta.union_added.add(triple)
    delta.union_removed -= delta.union_added
    # A named graph no quad is in any more is no graph (a full build would not have it).
    for graph in {q.graph_name for q in delta.removed}:
        if next(iter(store.quads_for_pattern(None, None, None, graph)), None) is None:
            store.remove_graph(graph)


def next_manifest(plan_: Plan, *, settings: Settings, dataset: Dataset) -> Manifest:
    """The manifest of the build being made (its build id and counts come at commit)."""
    manifest = plan_.manifest
    data_dir = Path(settings.data_dir)
    files = {
        n: {**v, "stat": plan_.stats.get(n)}
        for n, v in manifest.files.items()
        if n in plan_.current
    }
    graph_files: dict[str, set[str]] = defaultdict(set)
    names = {path: data_name(path, data_dir) for path, _forced in dataset.files}
    for graph, written_by in dataset.graph_files.items():
        for path in written_by:
            if (name := names.get(path)) is not None:  # not the ontology's files
                graph_files[graph].add(name)
    graphs_of: dict[str, set[str]] = defaultdict(set)
    for graph, writers in graph_files.items():
        for name in writers:
            graphs_of[name].add(graph)
    for name in plan_.changed:
        if name in plan_.current:
            files[name] = {
                "sha256": plan_.current[name],
                "graphs": sorted(graphs_of[name]),
                "size": len(plan_.contents[name]),
                "stat": plan_.stats.get(name),
            }
    # Graphs several files write: who states each subject there. Graphs shared before keep
    # their lists, less the changed files, plus what the changed files state now; a graph
    # that becomes shared with this change gets every file's subjects.
    multi = {g for g, writers in graph_files.items() if len(writers) > 1}
    changed = set(plan_.changed)
    shared: dict[str, dict[str, list[str]]] = {}
    for graph, subjects in manifest.shared_subjects.items():
        if graph in multi:
            kept = {s: [f for f in by if f not in changed] for s, by in subjects.items()}
            shared[graph] = {s: by for s, by in kept.items() if by}
    paths = {name: path for path, name in names.items() if name is not None}
    for graph in sorted(multi):
        writers = graph_files[graph] if graph not in shared else changed & graph_files[graph]
        listed = shared.setdefault(graph, {})
        for name in sorted(writers):
            for subject in dataset.subjects_by_graph(paths[name]).get(graph, ()):
                files_of_subject = listed.setdefault(subject, [])
                if name not in files_of_subject:
                    files_of_subject.append(name)
                    files_of_subject.sort()
    return Manifest(
        fingerprint=manifest.fingerprint,
        build_id="",
        files=files,
        shared_subjects=shared,
        quads=0,
        triples=0,
    )


def commit(
    manifest: Manifest,
    plan_: Plan,
    *,
    info: BuildInfo,
    pieces: Path,
    cache: Path,
    validated: bool,
) -> None:
    """After an incremental build's swap: its manifest, copies and pieces become the ones
    the next build starts from."""
    directory = incremental_dir(cache)
    _keep_copies(
        directory, wanted={v["sha256"] for v in manifest.files.values()}, new=plan_.contents
    )
    shutil.rmtree(directory / "parse", ignore_errors=True)
    manifest.build_id = info.build_id
    manifest.quads, manifest.triples = info.quads, info.triples
    manifest.pieces = pieces.name
    manifest.validated = validated
    manifest.write(directory)
    _drop_other_pieces(cache, pieces.name)


def dataset_from(plan_: Plan, *, settings: Settings, store: ox.Store) -> Dataset:
    """The Dataset the gate and the writers expect, over the updated store, without loading
    the files again: which files write which graphs comes from the manifest and the delta."""
    data_dir = Path(settings.data_dir)  # as load_dataset names the files
    dataset = Dataset(base=settings.base_uri, store=store)
    if settings.ontology_dir:
        from publisher.dataset.load import ONTOLOGY_GRAPH

        for path in rdf_files(Path(settings.ontology_dir)):
            dataset.files.append((path, ONTOLOGY_GRAPH))
            dataset.graph_files[settings.base_uri + ONTOLOGY_GRAPH].add(path)
    changed = set(plan_.changed)
    for name in sorted(plan_.current):
        path = data_dir / name
        dataset.files.append((path, None))
        if name in changed:
            noted: dict[str, set[str]] = defaultdict(set)
            for quad in file_quads(path, base=settings.base_uri):
                noted[quad.graph_name.value].add(str(quad.subject))
            dataset.file_subjects[path] = noted
            graphs = set(noted)
        else:
            graphs = set(plan_.manifest.files[name]["graphs"])
        for graph in graphs:
            dataset.graph_files[graph].add(path)
    return dataset


def homes_of(manifest: Manifest, *, base: str) -> Homes:
    """Where the statements of the build a manifest describes live (dump_pieces.Homes)."""
    from publisher.dataset import dump_pieces

    return dump_pieces.homes_from_files(
        {name: values["graphs"] for name, values in manifest.files.items()},
        manifest.shared_subjects,
        base=base,
        spread=frozenset(
            name
            for name, values in manifest.files.items()
            if values.get("size", 0) > dump_pieces.SPREAD_BYTES
        ),
    )
