"""The SHACL gate: validate the dataset against shapes/, report in words a curator can act on.

Each source document is validated with only what its shapes need (its own graph, its own
provenance, and the shared entities and ontology terms it refers to; see validation_units.py), so
the cost is linear in the number of documents and a report names the file a bad statement sits in.
Units are validated by one of two engines (setting `validation_engine`): "sparql", the shapes
compiled to SPARQL and run on pyoxigraph over many documents per query (shacl_sparql.py), or
"pyshacl", the reference. Both give the same findings (tests/test_validate_differential.py).
Work is spread over processes (`validation_workers`) and every unit's results are cached under
`<cache_dir>/validation/`, keyed by a hash of its triples, the shapes and the engine: editing one
document re-validates that document only; a cached failure is still reported as a failure. A
caller that knows which files changed (`changed_files`) saves gathering and hashing the units
that cannot have changed (validation_index.py).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import pickle
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH

from publisher.dataset import shacl_sparql
from publisher.dataset.load import Dataset
from publisher.dataset.validation_index import (
    UnitRecord,
    ValidationIndex,
    plan_changes,
    read_index,
    write_index,
)
from publisher.dataset.validation_units import (
    SHARED_UNIT,
    FileFacts,
    Unit,
    canonical_digest,
    file_key,
    graph_files,
    plan_lazily,
    scan_file,
    scan_files,
    shared_files,
    shared_ignore,
    unit_digest,
)

ENGINES = ("sparql", "pyshacl")


@dataclass(frozen=True, order=True)
class Finding:
    """One SHACL result, with the file(s) the focus node was written in."""

    files: tuple[str, ...]
    focus: str
    path: str
    severity: str
    message: str
    value: str
    shape: str
    component: str


@dataclass
class Report:
    conforms: bool
    findings: list[Finding]
    results_graph: rdflib.Graph
    groups_validated: int
    validated: int = 0  # documents (units) validated in this run
    from_cache: int = 0  # documents whose results came from the cache
    engine: str = "sparql"
    # Units whose triples were gathered in this run: all of them, or (changed_files) only
    # those the changed files can affect; the others' results come from the last run's index.
    planned: int = 0

    def counts(self) -> str:
        return (
            f"{self.validated} document(s) validated, {self.from_cache} from the cache "
            f"(engine {self.engine})."
        )

    def text(self) -> str:
        if self.conforms:
            return f"Conforms: all {self.groups_validated} graph group(s) satisfy the shapes."
        files = sorted({f for finding in self.findings for f in finding.files})
        lines = [
            f"Validation failed: {len(self.findings)} result(s) in {len(files) or 'unknown'} "
            "file(s). Nothing was published; the previous dist/ is unchanged.",
        ]
        current: tuple[str, ...] | None = None
        for finding in sorted(self.findings):
            if finding.files != current:
                current = finding.files
                lines.append("")
                lines.append(f"In {', '.join(current) or '(file unknown)'}:")
            lines.append(f"  {finding.severity}: {finding.message}")
            lines.append(f"    focus node: {finding.focus}")
            if finding.path:
                lines.append(f"    path:       {finding.path}")
            if finding.value:
                lines.append(f"    value:      {finding.value}")
            lines.append(f"    shape:      {finding.shape} ({finding.component})")
        return "\n".join(lines)

    def turtle(self) -> str:
        return self.results_graph.serialize(format="turtle")


def to_rdflib_graph(triples: list[ox.Triple] | list[ox.Quad]) -> rdflib.Graph:
    """Hand triples from the store to rdflib via N-Triples (exact, and fast enough for the gate)."""
    graph = rdflib.Graph()
    data = ox.serialize(
        (ox.Triple(t.subject, t.predicate, t.object) for t in triples),
        format=ox.RdfFormat.N_TRIPLES,
    )
    graph.parse(data=data, format="nt")
    return graph


def _short(term: rdflib.term.Node | None, graph: rdflib.Graph) -> str:
    if term is None:
        return ""
    if isinstance(term, rdflib.URIRef):
        return f"<{term}>"
    if isinstance(term, rdflib.BNode):
        # Say what the blank node is, since its id means nothing to a curator.
        return "[] (a blank node)"
    return term.n3(graph.namespace_manager)


def _shape_name(shape: rdflib.term.Node | None, shapes: rdflib.Graph) -> str:
    """A property shape written as a blank node is named by the node shape that holds it."""
    if isinstance(shape, rdflib.BNode):
        parent = shapes.value(None, SH.property, shape)
        path = shapes.value(shape, SH.path)
        if parent is not None:
            where = f", property {_short(path, shapes)}" if path is not None else ""
            return f"{_short(parent, shapes)}{where}"
    return _short(shape, shapes)


@dataclass(frozen=True, order=True)
class RawResult:
    """One result of one unit, engine-independent and JSON-cacheable: N-Triples terms (for the
    RDF report) and the words of the text report."""

    focus: str
    focus_text: str
    path: str
    path_text: str
    value: str
    value_text: str
    shape: str  # the shape's IRI, "" when it is a blank node
    shape_text: str
    component: str
    severity: str
    message: str


def validate_dataset(
    dataset: Dataset,
    shapes: list[ox.Triple],
    *,
    shared_graphs: list[str],
    root: Path | None = None,
    engine: str = "sparql",
    workers: int = 1,
    cache_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
    changed_files: Collection[Path] | None = None,
    stamps: Mapping[str, tuple[int, int]] | None = None,
) -> Report:
    """Validate every source document with its minimal context; merge and explain the results.

    File names in the findings are relative to `root` when they lie below it. `progress` is
    called with the number of documents completed since its last call.

    `changed_files` (with a `cache_dir`): the files added, edited or deleted since the last
    validation with the same cache directory, shapes, ontology and engine; every other file of
    `dataset.files` must be byte for byte what it was then. Only the units those files can
    affect are planned and validated (validation_index.py); the report is the one a full
    validation gives. When the index of the last validation is missing, damaged, made for
    other shapes, or does not match the dataset's files, every unit is planned (as with None).
    `stamps`: file_key -> (size, mtime_ns) the caller has just read (plan_changes)."""
    if engine not in ENGINES:
        raise ValueError(f"validation_engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    shared_graphs = list(shared_graphs)
    shapes_nt = ox.serialize(shapes, format=ox.RdfFormat.N_TRIPLES) or b""
    ontology = [
        q.triple
        for q in dataset.store.quads_for_pattern(
            None, None, None, ox.NamedNode(dataset.base + ONTOLOGY_GRAPH)
        )
    ]
    salt = ":".join(
        (
            engine,
            shacl_sparql.ENGINE_VERSION,
            f"pyshacl-{importlib.metadata.version('pyshacl')}",
            canonical_digest(list(shapes), salt="shapes"),
            canonical_digest(ontology, salt="ontology"),
        )
    )
    directory = cache_dir / "validation" if cache_dir else None
    previous = read_index(directory, salt=salt, base=dataset.base, shared_graphs=shared_graphs)
    known = {r.key: r.results for r in previous.units.values()} if previous else None
    cache = _Cache(directory, known)
    incremental = None
    if changed_files is not None and previous is not None:
        incremental = plan_changes(
            dataset, previous, changed_files, shared_graphs=shared_graphs, stamps=stamps
        )

    records: dict[str, UnitRecord] = {}
    results: dict[str, list[RawResult]] = {}
    todo: list[Unit] = []
    hits = 0
    expected = len(dataset.files) if incremental is None else len(incremental.units)
    with _Validator(
        shapes_nt,
        engine=engine,
        workers=workers,
        expected=expected,
        progress=progress,
        cache=directory,
    ) as validator:
        if incremental is None:
            facts_by_path = validator.scan(dataset, shared_graphs=shared_graphs)
            plan, stream = plan_lazily(dataset, shared_graphs=shared_graphs, facts=facts_by_path)
            source_count = plan.source_count
            facts = {file_key(p): f for p, f in facts_by_path.items()}
            paths = {file_key(p): p for p in facts_by_path}
            focus_files = _subject_files(facts_by_path)
        else:
            stream = iter(incremental.units)
            source_count = incremental.source_count
            facts, paths = incremental.facts, incremental.paths
            focus_files = incremental.focus_files
            records.update(incremental.reused)
            for name, record in records.items():
                results[name] = [RawResult(**row) for row in record.results]
            hits = len(records)
        units: list[Unit] = []
        for unit in stream:
            unit.key = unit_digest(unit, salt=salt)
            hit = cache.get(unit.key)
            if hit is None:
                todo.append(unit)
                validator.add(unit)
            else:
                results[unit.name] = hit
                hits += 1
            if progress and hits >= _BATCH:
                progress(hits)
                hits = 0
            unit.triples, unit.data = [], b""  # sent, or not needed: keep the memory low
            units.append(unit)
        if progress and hits:
            progress(hits)
        results.update(validator.finish())
    order = incremental.order if incremental is not None else [u.name for u in units]
    from_cache = len(order) - len(todo)
    for unit in todo:
        cache.put(unit.key, results[unit.name])
    cache.flush()
    for unit in units:
        records[unit.name] = UnitRecord(
            key=unit.key,
            results=[asdict(r) for r in results[unit.name]],
            described=unit.described,
        )
    if directory is not None:
        write_index(
            directory,
            ValidationIndex(
                salt=salt,
                base=dataset.base,
                shared_graphs=shared_graphs,
                files=facts,
                units={name: records[name] for name in order},
            ),
        )

    # Which files a unit's findings name: needed only when there are findings.
    reporting = any(results[name] for name in order)
    all_facts = {paths[k]: f for k, f in facts.items()} if reporting else {}
    files_of = graph_files(all_facts) if reporting else {}
    ignore: frozenset[str] = frozenset()
    if source_count:
        ignore = shared_ignore(records[name].described for name in order if name != SHARED_UNIT)
    findings: set[Finding] = set()
    reported: set[RawResult] = set()
    for name in order:
        if not results[name]:
            continue  # nothing to report: no file names to make (10,000 units at 10k)
        unit_ignore = ignore if name == SHARED_UNIT else frozenset()
        if name == SHARED_UNIT:
            files = shared_files(all_facts)
        else:
            files = tuple(sorted(files_of.get(name, ())))
        unit_files = tuple(str(_rel(p, root)) for p in files)
        for raw in results[name]:
            if raw.focus in unit_ignore:
                continue
            reported.add(raw)
            focus: list[Path] = []
            if raw.focus.startswith("<"):
                focus = focus_files(raw.focus[1:-1])
            findings.add(
                Finding(
                    files=tuple(str(_rel(p, root)) for p in focus) or unit_files,
                    focus=raw.focus_text,
                    path=raw.path_text,
                    severity=raw.severity.rsplit("#", 1)[-1],
                    message=raw.message,
                    value=raw.value_text,
                    shape=raw.shape_text,
                    component=raw.component.replace(str(SH), "sh:"),
                )
            )
    all_raw = sorted(reported)
    return Report(
        conforms=not all_raw,
        findings=sorted(findings),
        results_graph=_results_graph(all_raw),
        groups_validated=source_count or len(order),
        validated=len(todo),
        from_cache=from_cache,
        engine=engine,
        planned=len(units),
    )


def _subject_files(facts: dict[Path, FileFacts]) -> Callable[[str], list[Path]]:
    """The files that write a subject (in any graph), looked up only for reported results."""
    memo: dict[str, list[Path]] = {}

    def lookup(iri: str) -> list[Path]:
        if iri not in memo:
            memo[iri] = sorted(path for path, fact in facts.items() if iri in fact.subjects)
        return memo[iri]

    return lookup


ONTOLOGY_GRAPH = "graph/ontology"
_BATCH = 200  # units per worker task: enough to amortise a query over many documents
_MIN_PARALLEL = 40  # fewer units than this are validated in this process (no pool to start)


def validate_units(
    units: list[tuple[str, bytes]], shapes: list[ox.Triple], *, engine: str
) -> dict[str, list[RawResult]]:
    """Validate (name, N-Triples) units in this process, without cache: the engines' common
    seam, for tests that compare engines or contexts."""
    shapes_nt = ox.serialize(shapes, format=ox.RdfFormat.N_TRIPLES) or b""
    _init_worker(shapes_nt, engine)
    return dict(_validate_batch([(name, data, frozenset()) for name, data in units]))


# What a worker is given of a unit: its name, its N-Triples and the nodes it skips (Unit.skip).
Task = tuple[str, bytes, frozenset[str]]


class _Validator:
    """Validates units as they are planned: in batches, in worker processes once there is a full
    batch to send (the pool starts then, or earlier to parse the files), else in this process.
    While the workers validate one batch, this process plans the next."""

    def __init__(
        self,
        shapes_nt: bytes,
        *,
        engine: str,
        workers: int,
        expected: int,
        progress: Callable[[int], None] | None,
        cache: Path | None = None,
    ) -> None:
        self.shapes_nt, self.engine, self.progress = shapes_nt, engine, progress
        self.cache = cache  # where the compiled shapes are kept
        self.workers = workers or os.cpu_count() or 1
        self.size = max(1, min(_BATCH, -(-expected // self.workers)))
        self.parallel = self.workers > 1 and expected >= _MIN_PARALLEL
        self.pool: ProcessPoolExecutor | None = None
        self.pending: list[Task] = []
        self.futures: list[tuple[int, Future]] = []
        self.results: dict[str, list[RawResult]] = {}

    def __enter__(self) -> _Validator:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _start(self) -> ProcessPoolExecutor:
        if self.pool is None:
            # Shapes are compiled by a worker's first batch, not at its start: a pool started
            # to parse files may have no batch to validate (everything from the cache).
            self.pool = ProcessPoolExecutor(max_workers=self.workers)
        return self.pool

    def scan(self, dataset: Dataset, *, shared_graphs: list[str]) -> dict[Path, FileFacts]:
        """Parse every file once (validation_units.scan_file), in the workers when many."""
        files = list(dataset.files)
        if not (self.workers > 1 and len(files) >= _MIN_PARALLEL_SCAN):
            return scan_files(dataset, shared_graphs=shared_graphs)
        shared = {dataset.base + s for s in shared_graphs}
        size = -(-len(files) // (self.workers * 4))
        chunks = [files[i : i + size] for i in range(0, len(files), size)]
        found = self._start().map(
            _scan_chunk, chunks, [dataset.base] * len(chunks), [shared] * len(chunks)
        )
        return {path: fact for chunk in found for path, fact in chunk}

    def add(self, unit: Unit) -> None:
        self.pending.append((unit.name, unit.data, unit.skip))
        if len(self.pending) >= self.size:
            self._send(start=self.parallel)

    def _send(self, *, start: bool) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        if self.pool is not None or start:
            future = self._start().submit(
                _validate_in_worker, self.shapes_nt, self.engine, batch, self.cache
            )
            self.futures.append((len(batch), future))
            while self.futures and self.futures[0][1].done():
                self._collect()
            return
        _init_worker(self.shapes_nt, self.engine, self.cache)
        self.results.update(_validate_batch(batch))
        if self.progress:
            self.progress(len(batch))

    def _collect(self) -> None:
        count, future = self.futures.pop(0)
        self.results.update(future.result())
        if self.progress:
            self.progress(count)

    def finish(self) -> dict[str, list[RawResult]]:
        self._send(start=False)
        while self.futures:
            self._collect()
        return self.results


_MIN_PARALLEL_SCAN = 200  # files: below this they are parsed in this process


def _scan_chunk(
    files: list[tuple[Path, str | None]], base: str, shared: set[str]
) -> list[tuple[Path, FileFacts]]:
    return [
        (path, scan_file(path, forced_graph=forced, base=base, shared=shared))
        for path, forced in files
    ]


# -- in a worker process (or inline) ------------------------------------------------------------

_WORKER: dict = {}


def _init_worker(shapes_nt: bytes, engine: str, cache: Path | None = None) -> None:
    if _WORKER.get("key") == (shapes_nt, engine):
        return
    _WORKER.clear()
    _WORKER.update(key=(shapes_nt, engine), engine=engine)
    if engine != "sparql":
        _WORKER["shapes"] = rdflib.Graph().parse(data=shapes_nt, format="nt")
        return
    shapes, compiled = _compiled_shapes(shapes_nt, cache)
    _WORKER.update(shapes=shapes, compiled=compiled)
    _WORKER["fallback"] = (
        shacl_sparql.shapes_for_fallback(shapes, compiled.fallback) if compiled.fallback else None
    )


def _compiled_shapes(
    shapes_nt: bytes, cache: Path | None
) -> tuple[rdflib.Graph, shacl_sparql.CompiledShapes]:
    """The shapes graph and its compiled checks, kept in the validation cache (`cache`) by the
    shapes' digest: compiling parses every generated query, 0.3-0.5 s of an incremental
    build's gate at every build for the same shapes. Kept together, because the checks name
    the graph's blank nodes, whose ids each parse makes afresh. Anything unreadable there is
    compiled again."""
    digest = hashlib.sha256(shapes_nt).hexdigest()[:32]
    path = cache / f"compiled-{shacl_sparql.ENGINE_VERSION}-{digest}.pickle" if cache else None
    if path is not None:
        try:
            with path.open("rb") as stream:
                kept = pickle.load(stream)  # written below by this code: the cache's own file
            if isinstance(kept, tuple) and kept[0] == shapes_nt:
                return kept[1], kept[2]
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
            pass
    shapes = rdflib.Graph().parse(data=shapes_nt, format="nt")
    compiled = shacl_sparql.compile_shapes(shapes)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            with partial.open("wb") as stream:
                pickle.dump((shapes_nt, shapes, compiled), stream, pickle.HIGHEST_PROTOCOL)
            partial.replace(path)
        except OSError:
            pass  # no cache: compiled again next time
    return shapes, compiled


def _validate_in_worker(
    shapes_nt: bytes, engine: str, batch: list[Task], cache: Path | None = None
) -> list[tuple[str, list[RawResult]]]:
    _init_worker(shapes_nt, engine, cache)
    return _validate_batch(batch)


def _validate_batch(batch: list[Task]) -> list[tuple[str, list[RawResult]]]:
    """The results of each unit. pySHACL (the reference) checks every focus node of a unit;
    the compiled checks leave out the nodes a unit skips (the shared unit reports them)."""
    shapes: rdflib.Graph = _WORKER["shapes"]
    if _WORKER["engine"] == "pyshacl":
        return [(name, _pyshacl_results(data, shapes)) for name, data, _skip in batch]
    compiled: shacl_sparql.CompiledShapes = _WORKER["compiled"]
    store = ox.Store()
    skipped: list[ox.Quad] = []
    skip_in, skip_graph = ox.NamedNode(shacl_sparql.SKIP_IN), ox.NamedNode(shacl_sparql.SKIP_GRAPH)
    for i, (_name, data, skip) in enumerate(batch):
        group = ox.NamedNode(f"{shacl_sparql.GROUP_PREFIX}{i}")
        if data:
            store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=group)
        skipped += [ox.Quad(ox.NamedNode(iri), skip_in, group, skip_graph) for iri in skip]
    store.extend(skipped)
    found: list[set[RawResult]] = [set() for _ in batch]
    offset = len(shacl_sparql.GROUP_PREFIX)
    subclasses = shacl_sparql.subclasses_if_uniform(store)
    for check in compiled.checks:
        query = check.skipping_query if skipped and check.skipping_query else check.query
        query = shacl_sparql.with_classes(query, subclasses) if subclasses else query
        for row in store.query(query):
            index = int(row["g"].value[offset:])
            found[index].add(_sparql_result(check, row, shapes))
    fallback = _WORKER.get("fallback")
    if fallback is not None:
        for index, (_name, data, _skip) in enumerate(batch):
            found[index].update(_pyshacl_results(data, fallback))
    return [(name, sorted(f)) for (name, _data, _skip), f in zip(batch, found, strict=True)]


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_NAMES = rdflib.Graph()  # renders literals as a data graph parsed from N-Triples would


def _to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == _XSD_STRING:
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def _to_nt(term: rdflib.term.Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, rdflib.URIRef):
        return str(ox.NamedNode(str(term)))
    if isinstance(term, rdflib.BNode):
        return "_:"
    if term.language:
        return str(ox.Literal(str(term), language=term.language))
    datatype = ox.NamedNode(str(term.datatype)) if term.datatype else None
    return str(ox.Literal(str(term), datatype=datatype))


def _raw(
    *,
    focus: rdflib.term.Node,
    path: rdflib.term.Node | None,
    value: rdflib.term.Node | None,
    shape: rdflib.term.Node,
    component: str,
    severity: str,
    message: str,
    shapes: rdflib.Graph,
) -> RawResult:
    return RawResult(
        focus=_to_nt(focus),
        focus_text=_short(focus, _NAMES),
        path=_to_nt(path),
        path_text=_short(path, _NAMES),
        value=_to_nt(value),
        value_text=_short(value, _NAMES),
        shape=str(shape) if isinstance(shape, rdflib.URIRef) else "",
        shape_text=_shape_name(shape, shapes),
        component=component,
        severity=severity,
        message=message,
    )


def _node(nt: str) -> rdflib.term.Node:
    return rdflib.BNode(nt[2:]) if nt.startswith("_:") else rdflib.URIRef(nt[1:-1])


def _sparql_result(
    check: shacl_sparql.Check, row: ox.QuerySolution, shapes: rdflib.Graph
) -> RawResult:
    focus = _to_rdflib(row["this"])
    path = _node(check.path) if check.path else None
    value = None
    message = check.message
    if check.sparql_vars:
        bound = {v: _to_rdflib(row[v]) for v in check.sparql_vars if row[v] is not None}
        bound.pop("this", None)
        row_path, row_value = bound.pop("path", None), bound.pop("value", None)
        value = row_value if row_value is not None else (focus if check.value == "focus" else None)
        path = row_path if row_path is not None else path
        # As pySHACL words it: the other variables in projection order, then this/path/value.
        words = {**bound, "this": focus}
        if row_path is not None:
            words["path"] = row_path
        if value is not None:
            words["value"] = value
        for name, term in words.items():
            message = re.sub("{{[?$]{}}}".format(name), str(term), message)  # noqa: UP032 (as pySHACL)
    elif check.value == "value":
        value = _to_rdflib(row["value"])
    return _raw(
        focus=focus,
        path=path,
        value=value,
        shape=_node(check.shape),
        component=check.component,
        severity=check.severity,
        message=message,
        shapes=shapes,
    )


_PARSED_QUERIES: dict[tuple, object] = {}


@contextmanager
def _parse_each_query_once() -> Iterator[None]:
    """pySHACL hands rdflib the text of a SHACL-SPARQL query once per focus node, and rdflib
    parses and translates it every time (most of pySHACL's time on these shapes). Keep the
    translated query per text while pySHACL runs: the same evaluation, without the re-parsing.
    Imported here, as pySHACL is: rdflib's SPARQL engine costs 0.4 s to import, and a build
    that validates with the SPARQL engine alone never needs it."""
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.evaluate import evalQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.processor import SPARQLProcessor

    original = SPARQLProcessor.query

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((k, str(v)) for k, v in (initNs or {}).items())))
            if key not in _PARSED_QUERIES:
                _PARSED_QUERIES[key] = translateQuery(parseQuery(strOrQuery), base, initNs)
            strOrQuery = _PARSED_QUERIES[key]
        return evalQuery(self.graph, strOrQuery, initBindings, base)

    SPARQLProcessor.query = query
    try:
        yield
    finally:
        SPARQLProcessor.query = original


def _pyshacl_results(data: bytes, shapes: rdflib.Graph) -> list[RawResult]:
    data_graph = rdflib.Graph().parse(data=data, format="nt")
    with _parse_each_query_once():
        import pyshacl  # here: importing it costs 0.6 s, and the sparql engine does without

        conforms, results, _ = pyshacl.validate(
            data_graph,
            shacl_graph=shapes,
            inference="none",
            advanced=True,
            allow_warnings=True,
        )
    if conforms:
        return []
    out = set()
    for result in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        severity = results.value(result, SH.resultSeverity)
        out.add(
            _raw(
                focus=results.value(result, SH.focusNode),
                path=results.value(result, SH.resultPath),
                value=results.value(result, SH.value),
                shape=results.value(result, SH.sourceShape),
                component=str(results.value(result, SH.sourceConstraintComponent)),
                severity=str(severity or SH.Violation),
                message=str(results.value(result, SH.resultMessage) or "(no message)"),
                shapes=shapes,
            )
        )
    return sorted(out)


# -- cache and RDF report ------------------------------------------------------------------------


class _Cache:
    """Each unit's results (an empty list when it conforms) by key, in 256 JSON files (one per
    first two hex digits of the key): one file per unit cost about 1 ms each on a slow disk,
    10 s for 10k documents. `known` (the results in the last run's index) is looked in first."""

    def __init__(self, directory: Path | None, known: dict[str, list[dict]] | None = None) -> None:
        self.directory = directory
        self.known = known or {}
        self.shards: dict[str, dict[str, list[dict]]] = {}
        self.dirty: set[str] = set()

    def _shard(self, key: str) -> dict[str, list[dict]]:
        name = key[:2]
        if name not in self.shards:
            shard: dict = {}
            if self.directory is not None:
                try:
                    shard = json.loads((self.directory / f"{name}.json").read_text("utf-8"))
                except (OSError, ValueError):
                    shard = {}  # absent or damaged: validate again
            self.shards[name] = shard if isinstance(shard, dict) else {}
        return self.shards[name]

    def get(self, key: str) -> list[RawResult] | None:
        if self.directory is None:
            return None
        rows = self.known.get(key)
        if rows is None:
            rows = self._shard(key).get(key)
        try:
            return None if rows is None else [RawResult(**row) for row in rows]
        except TypeError:
            return None  # damaged: validate again

    def put(self, key: str, results: list[RawResult]) -> None:
        if self.directory is None:
            return
        self._shard(key)[key] = [asdict(r) for r in results]
        self.dirty.add(key[:2])

    def flush(self) -> None:
        if self.directory is None or not self.dirty:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for name in sorted(self.dirty):
                path = self.directory / f"{name}.json"
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(json.dumps(self.shards[name]), encoding="utf-8")
                tmp.replace(path)
        except OSError:
            pass  # a cache that cannot be written is a cache that misses
        self.dirty.clear()


def _results_graph(results: list[RawResult]) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.bind("sh", SH)
    report = rdflib.BNode()
    graph.add((report, rdflib.RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, rdflib.Literal(not results)))
    lines = []
    for i, raw in enumerate(results):
        node = f"_:r{i}"
        lines.append(f"{node} <{rdflib.RDF.type}> <{SH.ValidationResult}> .")
        lines.append(f"{node} <{SH.sourceConstraintComponent}> <{raw.component}> .")
        lines.append(f"{node} <{SH.resultSeverity}> <{raw.severity}> .")
        lines.append(f"{node} <{SH.resultMessage}> {ox.Literal(raw.message)} .")
        for predicate, term in (
            (SH.focusNode, raw.focus),
            (SH.resultPath, raw.path),
            (SH.value, raw.value),
            (SH.sourceShape, f"<{raw.shape}>" if raw.shape else "_:"),
        ):
            if term:
                term = f"_:r{i}{predicate.rsplit('#', 1)[-1]}" if term.startswith("_:") else term
                lines.append(f"{node} <{predicate}> {term} .")
    parsed = rdflib.Graph().parse(data="\n".join(lines), format="nt")
    for result in parsed.subjects(rdflib.RDF.type, SH.ValidationResult):
        graph.add((report, SH.result, result))
    graph += parsed
    return graph


def graph_groups(dataset: Dataset, *, shared_graphs: list[str]) -> list[list[str]]:
    """One group per source graph: the shared graphs, then that source graph (last)."""
    all_graphs = dataset.graph_names()
    shared = [g for g in all_graphs if g in {dataset.base + s for s in shared_graphs}]
    sources = [g for g in all_graphs if g not in shared]
    return [[*shared, g] for g in sources] or [shared]


def group_quads(dataset: Dataset, group: list[str]) -> list[ox.Quad]:
    quads: list[ox.Quad] = []
    for graph_name in group:
        quads.extend(dataset.store.quads_for_pattern(None, None, None, ox.NamedNode(graph_name)))
    return quads


def _rel(path: Path, root: Path | None) -> Path:
    if root is None:
        return path
    return _relative(path, root)


@functools.lru_cache(maxsize=1 << 16)
def _relative(path: Path, root: Path) -> Path:
    # Path arithmetic, cached: resolving 10,000 paths (a 10k-document check) took seconds.
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        return absolute.relative_to(_absolute(root))
    except ValueError:
        return path


@functools.lru_cache(maxsize=64)
def _absolute(root: Path) -> Path:
    return root.resolve()
