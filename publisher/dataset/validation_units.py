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

Which file writes which subject comes from one parse of every file (scan_file: the store does
not say which file a provenance triple came from). Each unit's cache key hashes its triples in
a canonical order (blank nodes named by a hash of their own triples, since parsing gives them
fresh ids every run), plus the engine and shapes.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from publisher.dataset.load import AUTHORING_FORMATS, Dataset, slugify
from publisher.errors import BuildError

SHARED_UNIT = "(shared graphs)"

Node = ox.NamedNode | ox.BlankNode
# The shared triples whose subject is a node (None or empty when there are none).
About = Callable[[Node], Iterable[ox.Triple] | None]


@dataclass
class Unit:
    name: str  # the source graph's IRI, or SHARED_UNIT
    triples: list[ox.Triple]
    files: tuple[Path, ...]  # the files that wrote the source graph (or the shared graphs)
    key: str = ""
    data: bytes = b""  # N-Triples, for the workers
    # Results about these focus nodes are not reported from this unit (see plan_units).
    ignore_focus: frozenset[str] = frozenset()
    # Its own subjects that are also subjects in a shared graph (N-Triples terms): what the
    # shared unit's ignore_focus is the intersection of, over all source units.
    described: frozenset[str] = frozenset()
    # Shared nodes (IRIs) this unit leaves to the shared unit for the checks that only look
    # outwards (skipped_focus): the shared unit finds the same results for them.
    skip: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FileFacts:
    """What one file writes, as far as planning units needs it (from one parse of the file)."""

    sources: frozenset[str]  # the source (non-shared) graphs it writes
    # IRI of each subject it writes in a shared graph -> a digest of those triples (VOLATILE
    # when one of them points at a blank node, whose id changes with every parse).
    shared: dict[str, str]
    subjects: frozenset[str]  # IRIs of the subjects it writes in any graph
    blank_shared: bool  # it writes a blank-node subject in a shared graph
    stamp: tuple[int, int] = (0, 0)  # size and mtime (ns) when parsed: a cheap "did it change"


def file_stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (-1, -1)
    return (stat.st_size, stat.st_mtime_ns)


VOLATILE = "*"


@dataclass
class Plan:
    units: list[Unit] = field(default_factory=list)
    source_count: int = 0
    facts: dict[Path, FileFacts] = field(default_factory=dict)


def file_key(path: Path) -> str:
    """How a file is named in the persisted index (no file system call: 10k files)."""
    return os.path.abspath(path)


def scan_file(path: Path, *, forced_graph: str | None, base: str, shared: set[str]) -> FileFacts:
    """Parse one file as the loader does (the same graph for triples outside a named graph)."""
    rdf_format = AUTHORING_FORMATS[path.suffix.lower()]
    fallback = base + (forced_graph or f"graph/{slugify(path.stem)}")

    def graph_of(graph: object) -> str:
        return graph.value if isinstance(graph, ox.NamedNode) and not forced_graph else fallback

    stamp = file_stamp(path)
    by_graph: dict[object, set] = defaultdict(set)
    in_shared: dict[object, bool] = {}
    shared_quads: list[ox.Quad] = []
    try:
        with path.open("rb") as stream:
            for quad in ox.parse(stream, format=rdf_format, base_iri=base):
                graph = quad.graph_name
                by_graph[graph].add(quad.subject)
                if graph not in in_shared:
                    in_shared[graph] = graph_of(graph) in shared
                if in_shared[graph]:
                    shared_quads.append(quad)
    except (SyntaxError, ValueError) as error:
        raise BuildError(f"{path}: cannot parse as {rdf_format.name}: {error}") from error
    sources: set[str] = set()
    subjects: set[str] = set()
    for graph, nodes in by_graph.items():
        subjects |= {n.value for n in nodes if isinstance(n, ox.NamedNode)}
        if not in_shared[graph]:
            sources.add(graph_of(graph))
    lines: dict[str, set[str]] = defaultdict(set)
    volatile: set[str] = set()
    blank_shared = False
    for quad in shared_quads:
        if not isinstance(quad.subject, ox.NamedNode):
            blank_shared = True
            continue
        iri = quad.subject.value
        if isinstance(quad.object, ox.BlankNode):
            volatile.add(iri)
        lines[iri].add(f"{quad.predicate} {quad.object}")
    return FileFacts(
        sources=frozenset(sources),
        shared={
            iri: VOLATILE
            if iri in volatile
            else hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest()[:20]
            for iri, found in lines.items()
        },
        subjects=frozenset(subjects),
        blank_shared=blank_shared,
        stamp=stamp,
    )


def scan_files(dataset: Dataset, *, shared_graphs: list[str]) -> dict[Path, FileFacts]:
    shared = {dataset.base + s for s in shared_graphs}
    return {
        path: scan_file(path, forced_graph=forced, base=dataset.base, shared=shared)
        for path, forced in dataset.files
    }


def graph_files(facts: dict[Path, FileFacts]) -> dict[str, list[Path]]:
    """Source graph -> the files that write it."""
    out: dict[str, list[Path]] = defaultdict(list)
    for path, fact in facts.items():
        for graph in fact.sources:
            out[graph].append(path)
    return out


def shared_files(facts: dict[Path, FileFacts]) -> tuple[Path, ...]:
    return tuple(sorted(p for p, f in facts.items() if f.shared or f.blank_shared))


def own_triples(store: ox.Store, graph_name: str) -> list[ox.Triple]:
    return [q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph_name))]


def source_unit(
    name: str,
    *,
    own: list[ox.Triple],
    owned: Iterable[Node],
    about: About,
    files: Iterable[Path],
    links: dict[Node, list[Node]] | None = None,
    owned_anywhere: Container[Node] = (),
) -> Unit:
    """One source graph's unit: its triples plus the shared triples reachable from them.
    `owned_anywhere`: the shared subjects of every source graph's own (not in the shared unit)."""
    seeds: list[Node] = [*owned, *(t.subject for t in own)]
    seeds += [t.object for t in own if not isinstance(t.object, ox.Literal)]
    context = _closure(seeds, about, {} if links is None else links)
    own_subjects = {t.subject for t in own}
    described = frozenset(str(s) for s in own_subjects if about(s))
    return Unit(
        name=name,
        # A triple both in the source graph and a shared one is listed twice: harmless (the
        # digest hashes the set of lines, and loading N-Triples keeps one).
        triples=[*own, *context],
        files=tuple(sorted(files)),
        described=described,
        skip=skipped_focus(own_subjects, context, owned_anywhere),
    )


def skipped_focus(
    own_subjects: set[Node], context: list[ox.Triple], owned_anywhere: Container[Node]
) -> frozenset[str]:
    """The shared nodes whose outward-looking checks this unit can leave to the shared unit.

    A check that only looks outwards (shacl_sparql.looks_outward) finds about a node what the
    triples reachable from it say. For a shared IRI of the shared unit (no source graph owns
    it) that reaches neither one of this unit's own subjects nor a node some source graph owns,
    those triples are the same here as in the shared unit, which holds every shared triple no
    source owns: same results, and the report keeps one of each. Checking such nodes (places,
    the ontology's classes) again in every unit that mentions them was half the queries' time.
    """
    pointing: dict[Node, list[Node]] = defaultdict(list)
    subjects: set[Node] = set()
    for triple in context:
        subjects.add(triple.subject)
        if not isinstance(triple.object, ox.Literal):
            pointing[triple.object].append(triple.subject)
    # An owned node is tainted itself: its triples are not in the shared unit.
    reaches = [node for node in subjects if node in owned_anywhere]
    reaches += own_subjects
    tainted: set[Node] = set()
    while reaches:
        node = reaches.pop()
        if node not in tainted:
            tainted.add(node)
            reaches.extend(pointing.get(node, ()))
    return frozenset(
        node.value for node in subjects if isinstance(node, ox.NamedNode) and node not in tainted
    )


def shared_ignore(units: Iterable[Unit | frozenset[str]]) -> frozenset[str]:
    """A shared node that every source document describes further (as a subject) is, in the
    union of all shared graphs and any one source graph, never seen with the shared triples
    alone: its results come from the documents' units, not from the shared unit."""
    common: frozenset[str] | None = None
    for unit in units:
        described = unit.described if isinstance(unit, Unit) else unit
        common = described if common is None else common & described
        if not common:
            return frozenset()
    return common or frozenset()


def plan_units(
    dataset: Dataset,
    *,
    shared_graphs: list[str],
    facts: dict[Path, FileFacts] | None = None,
) -> Plan:
    plan, units = plan_lazily(dataset, shared_graphs=shared_graphs, facts=facts)
    plan.units = list(units)
    return plan


def plan_lazily(
    dataset: Dataset,
    *,
    shared_graphs: list[str],
    facts: dict[Path, FileFacts] | None = None,
) -> tuple[Plan, Iterator[Unit]]:
    """The plan (without its units) and its units one by one, the source graphs' first: a
    caller can validate the first units while the next are gathered."""
    names = dataset.graph_names()
    shared_names = {dataset.base + s for s in shared_graphs}
    shared = [g for g in names if g in shared_names]
    sources = [g for g in names if g not in shared_names]
    store = dataset.store
    if facts is None:
        facts = scan_files(dataset, shared_graphs=shared_graphs)

    by_subject: dict[Node, list[ox.Triple]] = defaultdict(list)
    for graph_name in shared:
        for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(graph_name)):
            by_subject[quad.subject].append(quad.triple)

    # Who writes each shared subject, in any graph (a shared subject written only by files that
    # also write source graphs belongs to those source graphs' units).
    shared_iris = {s.value for s in by_subject if isinstance(s, ox.NamedNode)}
    writers: dict[str, list[Path]] = defaultdict(list)
    for path, fact in facts.items():
        for iri in fact.subjects & shared_iris:
            writers[iri].append(path)
    owned: dict[str, list[ox.NamedNode]] = defaultdict(list)
    unowned: list[ox.Triple] = []
    for subject, triples in by_subject.items():
        files = writers.get(subject.value) if isinstance(subject, ox.NamedNode) else None
        if files and all(facts[f].sources for f in files):
            for owner in {s for f in files for s in facts[f].sources}:
                owned[owner].append(subject)
        else:
            unowned.extend(triples)

    plan = Plan(source_count=len(sources), facts=facts)
    files_of = graph_files(facts)
    about = by_subject.get
    links: dict[Node, list[Node]] = {}
    # With no shared unit every shared subject is here, so no unit skips anything.
    owned_anywhere = {node for nodes in owned.values() for node in nodes}

    def units() -> Iterator[Unit]:
        described: list[frozenset[str]] = []
        for graph_name in sources:
            unit = source_unit(
                graph_name,
                own=own_triples(store, graph_name),
                owned=owned.get(graph_name, ()),
                about=about,
                files=files_of.get(graph_name, ()),
                links=links,
                owned_anywhere=owned_anywhere,
            )
            described.append(unit.described)
            yield unit
        if unowned or not sources:
            yield Unit(
                name=SHARED_UNIT,
                triples=unowned,
                files=shared_files(facts),
                ignore_focus=shared_ignore(described) if sources else frozenset(),
            )

    return plan, units()


def _closure(seeds: list[Node], about: About, links: dict[Node, list[Node]]) -> list[ox.Triple]:
    """The shared triples reachable from the seeds. `links` (a node's non-literal objects) is
    kept across the units of one plan: most units reach the same shared entities and classes."""
    seen: set = set()
    out: list[ox.Triple] = []
    stack = list(seeds)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        triples = about(node)
        if not triples:
            continue
        out.extend(triples)
        nodes = links.get(node)
        if nodes is None:
            nodes = links[node] = [
                t.object for t in triples if not isinstance(t.object, ox.Literal)
            ]
        stack.extend(nodes)
    return out


def unit_digest(unit: Unit, *, salt: str) -> str:
    """The unit's cache key; fills unit.data (its N-Triples) on the way. The nodes it leaves
    to the shared unit are part of it: its results depend on them."""
    unit.data = ox.serialize(unit.triples, format=ox.RdfFormat.N_TRIPLES) or b""
    if unit.skip:
        salt += "\nskip:" + " ".join(sorted(unit.skip))
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
