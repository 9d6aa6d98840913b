"""What the last validation depended on, so that the next one re-plans only what changed.

`validate_dataset(..., changed_files=...)` is told which files changed since the last validation
that used the same cache directory. The full path plans every unit (a pass over every quad and a
parse of every file: tens of seconds at 10k documents); this module keeps, in
`<cache_dir>/validation/index.json`, what is needed to know which units a set of changed files can
have changed, and the results of every unit:

- per file: the source graphs it writes, the subjects it writes in the shared graphs, and whether
  it writes a blank-node subject there (all files write graph/provenance, so the grain is the
  subject, not the graph);
- per unit: its cache key, its results, and its own subjects that are shared subjects (what the
  shared unit's ignore_focus is the intersection of).

A unit's triples are its own graph, the shared subjects it owns and the closure of shared triples
reachable from its nodes (validation_units.py). With the files of a unit unchanged, its unit can
change only if the shared triples about a node it reaches changed, or a shared subject it writes
changed owner; both need a subject that a changed file writes in a shared graph (before or after
the change: T below). Blank nodes are file-scoped (the parser renames them per file), so a changed
blank node is reached only through a triple of its own changed file. So the affected units are:
the source graphs of the changed files (before and after), and the units that reach a node of T
in the store as it is now, found by walking the shared triples backwards from T (plus the
graphs of files that write a node of that walk in a shared graph, its possible owners). If the
closure of a unit changed, some node it reaches now has changed shared triples (else the closure
would be the same), so walking backwards from T finds it. The shared unit (triples no source owns)
is re-planned when a node of T is unowned before or after, or a changed file writes a blank
subject in a shared graph.

Anything unexpected (no index, another salt/base/shared graphs, a file the index does not know
and the caller did not name, a source graph no file accounts for) means: plan everything.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from publisher.dataset.load import Dataset
from publisher.dataset.validation_units import (
    SHARED_UNIT,
    VOLATILE,
    FileFacts,
    Node,
    Unit,
    file_key,
    file_stamp,
    own_triples,
    scan_file,
    shared_files,
    source_unit,
)

INDEX_VERSION = 1
INDEX_NAME = "index.json"


@dataclass
class UnitRecord:
    key: str
    results: list[dict]  # RawResult fields
    described: frozenset[str] = frozenset()


@dataclass
class ValidationIndex:
    salt: str
    base: str
    shared_graphs: list[str]
    files: dict[str, FileFacts] = field(default_factory=dict)  # by file_key
    units: dict[str, UnitRecord] = field(default_factory=dict)  # by unit name


def read_index(
    directory: Path | None, *, salt: str, base: str, shared_graphs: list[str]
) -> ValidationIndex | None:
    """The index of the last validation, or None when absent, damaged or made for other
    shapes, ontology, engine, base or shared graphs."""
    if directory is None:
        return None
    try:
        raw = json.loads((directory / INDEX_NAME).read_text(encoding="utf-8"))
        if (raw["version"], raw["salt"], raw["base"], raw["shared_graphs"]) != (
            INDEX_VERSION,
            salt,
            base,
            shared_graphs,
        ):
            return None
        return ValidationIndex(
            salt=salt,
            base=base,
            shared_graphs=shared_graphs,
            files={
                key: FileFacts(
                    sources=frozenset(f["sources"]),
                    shared=dict(f["shared"]),
                    subjects=frozenset(),  # not kept: parse the file when needed
                    blank_shared=bool(f["blank"]),
                    stamp=(int(f["stamp"][0]), int(f["stamp"][1])),
                )
                for key, f in raw["files"].items()
            },
            units={
                name: UnitRecord(
                    key=u["key"], results=list(u["results"]), described=frozenset(u["described"])
                )
                for name, u in raw["units"].items()
            },
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def write_index(directory: Path | None, index: ValidationIndex) -> None:
    if directory is None:
        return
    payload = {
        "version": INDEX_VERSION,
        "salt": index.salt,
        "base": index.base,
        "shared_graphs": index.shared_graphs,
        "files": {
            key: {
                "sources": sorted(f.sources),
                "shared": f.shared,
                "blank": f.blank_shared,
                "stamp": list(f.stamp),
            }
            for key, f in index.files.items()
        },
        "units": {
            name: {"key": u.key, "results": u.results, "described": sorted(u.described)}
            for name, u in index.units.items()
        },
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f"{INDEX_NAME}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        tmp.replace(directory / INDEX_NAME)
    except OSError:
        pass  # no index: the next call with changed_files plans everything


@dataclass
class IncrementalPlan:
    """Units to digest (and maybe validate) plus units whose previous record still holds."""

    units: list[Unit]  # re-planned, in the order of the full plan
    reused: dict[str, UnitRecord]  # unit name -> record, not re-planned
    order: list[str]  # every unit name, in the order of the full plan
    source_count: int
    facts: dict[str, FileFacts]  # every current file, by file_key
    paths: dict[str, Path]  # file_key -> the dataset's path
    focus_files: Callable[[str], list[Path]]  # the files that write a subject, in any graph


class _StoreView:
    """The shared triples about a node, looked up in the store (memoised for one call)."""

    def __init__(self, store: ox.Store, shared: list[ox.NamedNode]) -> None:
        self.store = store
        self.shared = shared
        self.memo: dict[Node, list[ox.Triple]] = {}

    def __call__(self, node: Node) -> list[ox.Triple]:
        found = self.memo.get(node)
        if found is None:
            found = [
                q.triple
                for graph in self.shared
                for q in self.store.quads_for_pattern(node, None, None, graph)
            ]
            self.memo[node] = found
        return found


def plan_changes(
    dataset: Dataset,
    index: ValidationIndex,
    changed_files: Collection[Path],
    *,
    shared_graphs: list[str],
    stamps: Mapping[str, tuple[int, int]] | None = None,
) -> IncrementalPlan | None:
    """`stamps`: file_key -> (size, mtime_ns) of files the caller has just looked at (an
    incremental build's plan has): those are not looked at again (10,000 stat calls from
    a thread that waits for the GIL after each took seconds beside a busy build)."""
    base = dataset.base
    shared_names = {base + s for s in shared_graphs}
    paths: dict[str, Path] = {}
    forced: dict[str, str | None] = {}
    for path, graph in dataset.files:
        key = file_key(path)
        paths[key], forced[key] = path, graph
    changed = {file_key(p) for p in changed_files}
    # A file the caller did not name but whose size or time is not what it was: changed too.
    known = stamps or {}
    changed |= {
        k
        for k, path in paths.items()
        if k not in changed
        and k in index.files
        and (known.get(k) or file_stamp(path)) != index.files[k].stamp
    }
    if any(k not in index.files and k not in changed for k in paths) or any(
        k not in paths and k not in changed for k in index.files
    ):
        return None  # the caller's changed_files does not account for the difference
    shared_set = {base + s for s in shared_graphs}
    scanned = {
        k: scan_file(paths[k], forced_graph=forced[k], base=base, shared=shared_set)
        for k in changed
        if k in paths
    }
    facts = {k: scanned.get(k) or index.files[k] for k in paths}
    names = dataset.graph_names()
    sources = [g for g in names if g not in shared_names]
    if set(sources) != {g for f in facts.values() for g in f.sources}:
        return None  # a graph no file writes (or the reverse): not the state the caller says

    def writers_of(files: dict[str, FileFacts]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for k, f in files.items():
            for iri in f.shared:
                out[iri].append(k)
        return out

    old_writers = writers_of(index.files)
    new_writers = writers_of(facts)

    def unowned(iri: str, writers: dict[str, list[str]], files: dict[str, FileFacts]) -> bool:
        return iri in writers and not all(files[k].sources for k in writers[iri])

    touched: set[str] = set()  # T: subjects whose triples in a shared graph a changed file changed
    direct: set[str] = set()  # source graphs a changed file writes
    blank = False
    for k in changed:
        before, after = index.files.get(k), scanned.get(k)
        old_shared = before.shared if before else {}
        new_shared = after.shared if after else {}
        if bool(before and before.sources) != bool(after and after.sources):
            touched |= {*old_shared, *new_shared}  # its subjects may change owner
        for iri in {*old_shared, *new_shared}:
            digest = old_shared.get(iri)
            if digest != new_shared.get(iri) or digest == VOLATILE:
                touched.add(iri)
        for fact in (before, after):
            if fact is not None:
                direct |= fact.sources
                blank = blank or fact.blank_shared

    files_of: dict[str, list[str]] = defaultdict(list)
    for k, f in facts.items():
        for g in f.sources:
            files_of[g].append(k)
    source_set = set(sources)
    affected = direct | _reaching(
        dataset.store,
        touched,
        shared=[ox.NamedNode(g) for g in sorted(shared_names)],
        sources=source_set,
        owners=lambda iri: (g for k in new_writers.get(iri, ()) for g in facts[k].sources),
        siblings=lambda graph: (g for k in files_of.get(graph, ()) for g in facts[k].sources),
    )
    affected = (affected & source_set) | {g for g in sources if g not in index.units}
    shared_affected = (
        blank
        or any(
            unowned(iri, old_writers, index.files) or unowned(iri, new_writers, facts)
            for iri in touched
        )
        or (not sources) != (not any(g != SHARED_UNIT for g in index.units))
    )

    view = _StoreView(dataset.store, [ox.NamedNode(g) for g in sorted(shared_names)])

    def is_owned(iri: str) -> bool:
        return iri in new_writers and all(facts[k].sources for k in new_writers[iri])

    def parsed(k: str) -> FileFacts:
        if k not in scanned:
            scanned[k] = scan_file(paths[k], forced_graph=forced[k], base=base, shared=shared_set)
        return scanned[k]

    def focus_files(iri: str) -> list[Path]:
        found = set(new_writers.get(iri, ()))
        for quad in dataset.store.quads_for_pattern(ox.NamedNode(iri), None, None, None):
            graph = quad.graph_name
            if isinstance(graph, ox.NamedNode) and graph.value in source_set:
                candidates = files_of.get(graph.value, ())
                if len(candidates) == 1:
                    found.update(candidates)
                else:
                    found.update(k for k in candidates if iri in parsed(k).subjects)
        return sorted(paths[k] for k in found)

    plan = IncrementalPlan(
        units=[],
        reused={},
        order=[],
        source_count=len(sources),
        facts=facts,
        paths=paths,
        focus_files=focus_files,
    )
    links: dict[Node, list[Node]] = {}
    owned_anywhere = _Owned(is_owned)
    for graph_name in sources:
        plan.order.append(graph_name)
        if graph_name not in affected:
            plan.reused[graph_name] = index.units[graph_name]
            continue
        owned: list[Node] = []
        for k in files_of.get(graph_name, ()):
            owned.extend(ox.NamedNode(iri) for iri in parsed(k).subjects if is_owned(iri))
        plan.units.append(
            source_unit(
                graph_name,
                own=own_triples(dataset.store, graph_name),
                owned=dict.fromkeys(owned),
                about=view,
                files=(paths[k] for k in files_of.get(graph_name, ())),
                links=links,
                owned_anywhere=owned_anywhere,
            )
        )
    if shared_affected:
        unit = _shared_unit(dataset, shared_names, is_owned)
        if unit.triples or not sources:
            plan.order.append(SHARED_UNIT)
            plan.units.append(unit)
    elif SHARED_UNIT in index.units:
        plan.order.append(SHARED_UNIT)
        plan.reused[SHARED_UNIT] = index.units[SHARED_UNIT]
    for unit in plan.units:
        if unit.name == SHARED_UNIT:
            unit.files = shared_files({paths[k]: f for k, f in facts.items()})
    return plan


class _Owned:
    """The shared IRIs some source graph owns, as `in` asks (source_unit's owned_anywhere):
    the same nodes plan_lazily's set holds, from the index's facts."""

    def __init__(self, is_owned: Callable[[str], bool]) -> None:
        self.is_owned = is_owned

    def __contains__(self, node: object) -> bool:
        return isinstance(node, ox.NamedNode) and self.is_owned(node.value)


def _shared_unit(dataset: Dataset, shared_names: set[str], is_owned) -> Unit:
    unowned: list[ox.Triple] = []
    for graph_name in sorted(shared_names):
        for quad in dataset.store.quads_for_pattern(None, None, None, ox.NamedNode(graph_name)):
            subject = quad.subject
            if not (isinstance(subject, ox.NamedNode) and is_owned(subject.value)):
                unowned.append(quad.triple)
    return Unit(name=SHARED_UNIT, triples=unowned, files=())


def _reaching(
    store: ox.Store,
    touched: Iterable[str],
    *,
    shared: list[ox.NamedNode],
    sources: set[str],
    owners,
    siblings,
) -> set[str]:
    """The source graphs whose unit can reach a touched node: walk the shared triples backwards
    from the touched nodes, then take every source graph that mentions a node of the walk (as
    subject or object) or whose files write one in a shared graph (its possible owner)."""
    seen: set[Node] = set()
    stack: list[Node] = [ox.NamedNode(iri) for iri in touched]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for graph in shared:
            for quad in store.quads_for_pattern(None, None, node, graph):
                if quad.subject not in seen:
                    stack.append(quad.subject)
    found: set[str] = set()
    for node in seen:
        for quad in store.quads_for_pattern(node, None, None, None):
            graph = quad.graph_name
            if isinstance(graph, ox.NamedNode) and graph.value in sources:
                # A file that writes this subject owns it for every source graph it writes.
                found.add(graph.value)
                found.update(siblings(graph.value))
        for quad in store.quads_for_pattern(None, None, node, None):
            graph = quad.graph_name
            if isinstance(graph, ox.NamedNode) and graph.value in sources:
                found.add(graph.value)
        if isinstance(node, ox.NamedNode):
            found.update(owners(node.value))
    return found
