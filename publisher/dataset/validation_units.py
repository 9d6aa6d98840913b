"""What each source document is validated with: its own graph plus the minimal shared context.

A unit is one source graph together with
- the triples of the shared graphs (ontology, curated, provenance) whose subject was written only in
  that document's own file(s) (its provenance: the description of its graph and of its document);
- the closure of the shared triples reachable from any node the document (or that provenance)
  mentions, following subject -> object links: the shared entities it refers to, their types, the
  ontology classes above those types (rdfs:subClassOf), the documents and places they point to.

The shapes only look outwards from a focus node (paths, sh:class of values, SHACL-SPARQL from
$this), so every focus node of the unit sees what it would see in the union of all shared graphs
and the source graph. The shared triples no single source owns form one more unit (the
"shared" unit, validated once), so that problems of the shared data alone are found even where no
document refers to them.

Each unit's cache key hashes its triples in a canonical order (blank nodes named by a hash of
their own triples, since parsing gives them fresh ids every run), plus the engine and shapes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from publisher.dataset.load import Dataset

SHARED_UNIT = "(shared graphs)"


@dataclass
class Unit:
    name: str  # the source graph's IRI, or SHARED_UNIT
    triples: list[ox.Triple]
    files: tuple[Path, ...]  # the files that wrote the source graph (or the shared graphs)
    key: str = ""
    data: bytes = b""  # N-Triples, for the workers
    # Results about these focus nodes are not reported from this unit (see plan_units).
    ignore_focus: frozenset[str] = frozenset()


@dataclass
class Plan:
    units: list[Unit] = field(default_factory=list)
    source_count: int = 0


def plan_units(dataset: Dataset, *, shared_graphs: list[str]) -> Plan:
    names = dataset.graph_names()
    shared_names = {dataset.base + s for s in shared_graphs}
    shared = [g for g in names if g in shared_names]
    sources = [g for g in names if g not in shared_names]
    store = dataset.store

    by_subject: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]] = defaultdict(list)
    for graph_name in shared:
        for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(graph_name)):
            by_subject[quad.subject].append(ox.Triple(quad.subject, quad.predicate, quad.object))

    file_sources: dict[Path, list[str]] = defaultdict(list)
    for graph_name in sources:
        for path in dataset.graph_files.get(graph_name, ()):
            file_sources[path].append(graph_name)
    owned: dict[str, list[ox.NamedNode]] = defaultdict(list)
    unowned: list[ox.Triple] = []
    for subject, triples in by_subject.items():
        files = (
            dataset.subject_files.get(subject.value) if isinstance(subject, ox.NamedNode) else None
        )
        owners = {s for f in files or () for s in file_sources.get(f, ())}
        if files and all(f in file_sources for f in files):
            for owner in owners:
                owned[owner].append(subject)
        else:
            unowned.extend(triples)

    plan = Plan(source_count=len(sources))
    # A shared node that every source document describes further (as a subject) is, in the
    # union of all shared graphs and any one source graph, never seen with the shared triples
    # alone: its results come from the documents' units, not from the shared unit.
    described_by_all: set | None = None
    for graph_name in sources:
        own = [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph_name))
        ]
        subjects = {t.subject for t in own if t.subject in by_subject}
        described_by_all = subjects if described_by_all is None else described_by_all & subjects
        seeds: list[ox.NamedNode | ox.BlankNode] = list(owned.get(graph_name, ()))
        for triple in own:
            seeds.append(triple.subject)
            if not isinstance(triple.object, ox.Literal):
                seeds.append(triple.object)
        context = _closure(seeds, by_subject)
        triples = list(dict.fromkeys([*own, *context]))
        files = tuple(sorted(dataset.graph_files.get(graph_name, ())))
        plan.units.append(Unit(name=graph_name, triples=triples, files=files))
    if unowned or not sources:
        files = tuple(sorted({p for g in shared for p in dataset.graph_files.get(g, ())}))
        ignore = frozenset(str(node) for node in described_by_all or ())
        plan.units.append(Unit(name=SHARED_UNIT, triples=unowned, files=files, ignore_focus=ignore))
    return plan


def _closure(
    seeds: list[ox.NamedNode | ox.BlankNode],
    by_subject: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]],
) -> list[ox.Triple]:
    seen: set = set()
    out: list[ox.Triple] = []
    stack = list(seeds)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for triple in by_subject.get(node, ()):
            out.append(triple)
            if not isinstance(triple.object, ox.Literal) and triple.object not in seen:
                stack.append(triple.object)
    return out


def unit_digest(unit: Unit, *, salt: str) -> str:
    """The unit's cache key; fills unit.data (its N-Triples) on the way."""
    unit.data = ox.serialize(unit.triples, format=ox.RdfFormat.N_TRIPLES) or b""
    if b"_:" in unit.data:  # maybe a blank node (or text that looks like one): the slow way
        return canonical_digest(unit.triples, salt=salt)
    digest = hashlib.sha256(salt.encode())
    digest.update(b"\n".join(sorted(set(unit.data.splitlines()))))
    return digest.hexdigest()


def canonical_digest(triples: list[ox.Triple], *, salt: str) -> str:
    """A content hash of a set of triples that does not depend on blank node ids."""
    digest = hashlib.sha256(salt.encode())
    has_blank = any(
        isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples
    )
    if not has_blank:
        lines = sorted({str(t) for t in triples})
    else:
        names = _blank_names(triples)

        def term(node: object) -> str:
            return names[node] if isinstance(node, ox.BlankNode) else str(node)

        lines = sorted({f"{term(t.subject)} {t.predicate} {term(t.object)}" for t in triples})
    digest.update("\n".join(lines).encode())
    return digest.hexdigest()


def _blank_names(triples: list[ox.Triple]) -> dict[ox.BlankNode, str]:
    """Name each blank node by a hash of its outgoing triples (nested blank nodes by their own
    names) and of the non-blank subjects pointing at it."""
    outgoing: dict[ox.BlankNode, list[ox.Triple]] = defaultdict(list)
    incoming: dict[ox.BlankNode, list[str]] = defaultdict(list)
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            outgoing[t.subject].append(t)
        if isinstance(t.object, ox.BlankNode):
            subject = "_" if isinstance(t.subject, ox.BlankNode) else str(t.subject)
            incoming[t.object].append(f"{subject} {t.predicate}")
    names: dict[ox.BlankNode, str] = {}

    def name(node: ox.BlankNode, path: frozenset) -> str:
        if node in names:
            return names[node]
        if node in path:
            return "_:cycle"
        inner = path | {node}
        parts = sorted(
            f"{t.predicate} "
            + (name(t.object, inner) if isinstance(t.object, ox.BlankNode) else str(t.object))
            for t in outgoing.get(node, ())
        )
        parts += sorted("<-" + s for s in incoming.get(node, ()))
        label = "_:b" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]
        if not path:
            names[node] = label
        return label

    for node in {*outgoing, *incoming}:
        name(node, frozenset())
    return names
