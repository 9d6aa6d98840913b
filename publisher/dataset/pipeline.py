"""The build as one flow: load -> validate -> publish. The CLI and the tests call these."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pyoxigraph as ox

from publisher.dataset import dump_pieces, incremental
from publisher.dataset.load import Dataset, load_dataset, load_shapes
from publisher.dataset.memory import release_freed_memory
from publisher.dataset.publish import (
    BuildInfo,
    UpdatedStore,
    WrittenDumps,
    assemble_dumps,
    publish,
    staging_dir,
    store_union,
    updated_search_index,
)
from publisher.dataset.void import Statistics
from publisher.dist import STORE_DIR, cache_root
from publisher.errors import ValidationFailed
from publisher.progress import SILENT, Progress
from publisher.settings import Settings
from publisher.textsearch import SEARCH_FILE

if TYPE_CHECKING:
    from publisher.dataset.validate import Report

T = TypeVar("T")


@dataclass
class Loaded:
    dataset: Dataset
    shapes: list


def load(settings: Settings, *, progress: Progress = SILENT) -> Loaded:
    with progress.step("loading", total=None) as advance:
        dataset = load_dataset(
            base=settings.base_uri,
            ontology_dir=Path(settings.ontology_dir) if settings.ontology_dir else None,
            data_dir=Path(settings.data_dir),
            progress=advance,
        )
    shapes_dir = Path(settings.shapes_dir) if settings.shapes_dir else None
    shapes = load_shapes(shapes_dir, base=settings.base_uri) if shapes_dir else []
    return Loaded(dataset=dataset, shapes=shapes)


def validate(
    settings: Settings,
    loaded: Loaded | None = None,
    *,
    progress: Progress = SILENT,
    changed_files: Collection[Path] | None = None,
    workers: int | None = None,
    stamps: Mapping[str, tuple[int, int]] | None = None,
) -> Report:
    """`changed_files`: the files added, edited or deleted since the last validation with the
    same cache (see validate_dataset); None validates as if nothing were known. `workers`:
    instead of the setting validation_workers (1: in this process, no pool)."""
    # Imported here: the gate brings rdflib (0.4 s to import), which an incremental build's
    # gate then imports in its own thread, beside the rest of the build.
    from publisher.dataset.validate import validate_dataset

    loaded = loaded or load(settings, progress=progress)
    shared_graphs = settings.shared_graphs.split()
    shared = {settings.base_uri + graph for graph in shared_graphs}
    documents = len(set(loaded.dataset.graph_files) - shared)
    with progress.step("validating", total=documents) as advance:
        return validate_dataset(
            loaded.dataset,
            loaded.shapes,
            shared_graphs=shared_graphs,
            root=Path.cwd(),
            engine=settings.validation_engine,
            workers=settings.validation_workers if workers is None else workers,
            cache_dir=cache_root(settings.dist_dir, settings.cache_dir),
            progress=advance,
            changed_files=changed_files,
            stamps=stamps,
        )


@dataclass
class Built:
    """What `build_dataset` did: the build, its gate report (None without validation), and
    whether it was incremental (else `full_because` says why not)."""

    info: BuildInfo
    report: Report | None
    changed_files: list[str] | None  # incremental: the data files that changed
    full_because: str = ""

    def __iter__(self):  # `info, report = build_dataset(...)`
        return iter((self.info, self.report))


def build_dataset(
    settings: Settings,
    *,
    check: bool = True,
    progress: Progress = SILENT,
    full: bool = False,
    before_swap: Callable[[Path], object] | None = None,
) -> Built:
    """Build dist/; raise ValidationFailed (dist/ untouched) when the data breaks the shapes.
    `progress` draws bars for the long steps (build_progress() on a terminal). Incremental
    (publisher.dataset.incremental) when the previous build allows it and `full` is False."""
    cache = cache_root(settings.dist_dir, settings.cache_dir)
    reason = "a full build was asked for"
    if not full:
        try:
            return _build_incrementally(
                settings, check=check, progress=progress, cache=cache, before_swap=before_swap
            )
        except incremental.NotIncremental as why:
            reason = str(why)
    loaded = load(settings, progress=progress)
    report, union = _validate_beside_the_union(settings, loaded, check=check, progress=progress)
    pieces = incremental.new_pieces_dir(cache)
    try:
        info = publish(
            loaded.dataset,
            shapes=loaded.shapes,
            out=Path(settings.dist_dir),
            settings=settings,
            progress=progress,
            pieces_dir=pieces,
            before_swap=before_swap,
            union=union,
        )
    except BaseException:
        shutil.rmtree(pieces, ignore_errors=True)
        raise
    incremental.record_full_build(
        settings, loaded.dataset, info, cache, pieces=pieces, validated=report is not None
    )
    return Built(info=info, report=report, changed_files=None, full_because=reason)


def _validate_beside_the_union(
    settings: Settings, loaded: Loaded, *, check: bool, progress: Progress
) -> tuple[Report | None, tuple[int, int]]:
    """A full build's gate, while a thread writes the union default graph into the store (a
    SPARQL update, single-threaded in Rust without the GIL: 14.5 s at 10,000 documents). The
    gate reads only named graphs, and its workers are processes: the update fills the core
    they leave idle. Raises ValidationFailed (once the update is done) when the gate fails."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="union") as side:
        union = side.submit(store_union, loaded.dataset.store)
        report = None
        if check and loaded.shapes:
            report = validate(settings, loaded, progress=progress)
        counts = union.result()
    release_freed_memory()  # what the gate parsed and planned
    if report is not None:
        _raise_unless_conforms(report)
    return report, counts


def _build_incrementally(
    settings: Settings,
    *,
    check: bool,
    progress: Progress,
    cache: Path,
    before_swap: Callable[[Path], object] | None = None,
) -> Built:
    """The previous build's store plus the delta, validated, written, swapped."""
    plan = incremental.plan(settings, cache)
    delta = incremental.compute_delta(plan, settings=settings, cache=cache)
    out = Path(settings.dist_dir).resolve()
    staging = staging_dir(out)
    staging.mkdir(parents=True)
    pieces: Path | None = None
    search: Future[tuple[str, str]] | None = None
    dumps: Future[WrittenDumps] | None = None
    # The previous search index (hundreds of MB at 10k documents) is copied while the store
    # is updated and the change validated: the copy is the kernel's work, without the GIL.
    search_copy = _in_background(
        "search-copy", shutil.copyfile, out / SEARCH_FILE, staging / f".{SEARCH_FILE}.previous"
    )
    try:
        with progress.step("store delta", total=1) as advance:
            ox.Store.read_only(str(out / STORE_DIR)).backup(str(staging / STORE_DIR))
            store = ox.Store(str(staging / STORE_DIR))
            incremental.apply_delta(store, delta)
            # Into SST files: serving (and the next build's checkpoint) open it read-only,
            # and a read-only opener does not replay what sits in another's memtable.
            store.flush()
            advance(1)
        # search.sqlite is brought up to date while the change is validated and its pieces
        # rendered (SQLite and the hashing run without the GIL).
        search = _in_background(
            "search",
            updated_search_index,
            out,
            store,
            base=settings.base_uri,
            target=staging,
            subjects=frozenset(delta.subjects()),
            copy=search_copy,
        )
        dataset = incremental.dataset_from(plan, settings=settings, store=store)
        shapes_dir = Path(settings.shapes_dir) if settings.shapes_dir else None
        shapes = load_shapes(shapes_dir, base=settings.base_uri) if shapes_dir else []
        report: Report | None = None
        gate: Future[Report] | None = None
        if check and shapes:
            # Validate what changed when the previous build validated everything (the
            # validation cache holds the rest); else everything.
            data_dir = Path(settings.data_dir)  # as load_dataset names them
            changed = [data_dir / name for name in plan.changed]
            loaded = Loaded(dataset=dataset, shapes=shapes)
            if plan.manifest.validated and len(plan.changed) <= GATE_BESIDE_MAX_FILES:
                # A few files: the gate runs beside the rest of the build (mostly Python,
                # while the dumps' copying and hashing run without the GIL), in this process
                # (no pool forked from a process with threads), and is waited for before the
                # swap: a failing gate still leaves dist/ untouched.
                gate = _in_background(
                    "gate",
                    validate,
                    settings,
                    loaded,
                    changed_files=changed,
                    workers=1,
                    stamps=incremental.stamps(plan, data_dir=data_dir),
                )
            else:
                report = validate(
                    settings,
                    loaded,
                    progress=progress,
                    changed_files=changed if plan.manifest.validated else None,
                )
                _raise_unless_conforms(report)

        def assemble(directory: Path, previous: Path, unchanged: frozenset[str]) -> None:
            # The dumps are assembled (mostly copying and hashing, without the GIL) from the
            # moment the changed pieces are written, while their statistics are summed.
            nonlocal dumps
            dumps = _in_background(
                "dumps",
                assemble_dumps,
                directory,
                target=staging,
                base=settings.base_uri,
                previous=previous,
                previous_dumps=out,
                unchanged=unchanged,
            )

        with progress.step("pieces", total=1) as advance:
            manifest = incremental.next_manifest(plan, settings=settings, dataset=dataset)
            pieces = incremental.new_pieces_dir(cache)
            statistics, links = _changed_pieces(
                plan,
                delta,
                manifest,
                settings=settings,
                store=store,
                out=out,
                cache=cache,
                new_dir=pieces,
                written=assemble,
            )
            links.result()  # the next build reads this directory: it must be whole
            advance(1)
        assert dumps is not None
        previous = plan.manifest
        updated = UpdatedStore(
            quads=previous.quads + len(delta.added) - len(delta.removed),
            triples=previous.triples + len(delta.union_added) - len(delta.union_removed),
            statistics=statistics,
            search=search,
            dumps=dumps,
        )
        info = publish(
            dataset,
            shapes=shapes,
            out=out,
            settings=settings,
            progress=progress,
            updated=updated,
            staging=staging,
            pieces_dir=pieces,
            before_swap=_after_the_gate(gate, before_swap),
        )
        if gate is not None:
            report = gate.result()
    except BaseException:
        wait([f for f in (search_copy, search, dumps, gate) if f is not None])  # in staging
        shutil.rmtree(staging, ignore_errors=True)
        if pieces is not None:
            shutil.rmtree(pieces, ignore_errors=True)
        raise
    incremental.commit(
        manifest, plan, info=info, pieces=pieces, cache=cache, validated=report is not None
    )
    return Built(info=info, report=report, changed_files=plan.changed)


# At most this many changed files, an incremental build's gate runs beside the rest of the build
# (in one process: fewer units than validate's _MIN_PARALLEL need no pool anyway).
GATE_BESIDE_MAX_FILES = 20


def _in_background(name: str, task: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
    """`task` started in a thread of its own, which ends with it."""
    runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
    try:
        return runner.submit(task, *args, **kwargs)
    finally:
        runner.shutdown(wait=False)


def _raise_unless_conforms(report: Report) -> None:
    if not report.conforms:
        raise ValidationFailed(report.text(), findings=report.findings)


def _after_the_gate(
    gate: Future[Report] | None, then: Callable[[Path], object] | None
) -> Callable[[Path], object] | None:
    """The hook run on the complete staging directory: the gate's verdict first."""
    if gate is None:
        return then

    def hook(staging: Path) -> None:
        _raise_unless_conforms(gate.result())
        if then is not None:
            then(staging)

    return hook


def _changed_pieces(
    plan: incremental.Plan,
    delta: incremental.Delta,
    manifest: incremental.Manifest,
    *,
    settings: Settings,
    store: ox.Store,
    out: Path,
    cache: Path,
    new_dir: Path,
    written: Callable[[Path, Path, frozenset[str]], object],
) -> tuple[Statistics, Future[None]]:
    """The new build's pieces in `new_dir` (the changed ones rendered, the others linked):
    their statistics, and the links being made. `written(new_dir, previous, unchanged)` is
    called as soon as the changed pieces are written: the `unchanged` pieces are still read
    in the previous build's pieces directory `previous` while they are linked into `new_dir`.

    The links are made in a thread of their own: a thousand link calls, each of which gives
    up the GIL and waits to take it back from the gate's and the search index's threads,
    took 0.2-1 s in the build (28 ms alone)."""
    base = settings.base_uri
    old_dir = incremental.incremental_dir(cache) / plan.manifest.pieces
    old_store = ox.Store.read_only(str(out / STORE_DIR))
    change = dump_pieces.changed_pieces(
        delta.touched,
        old_store=old_store,
        new_store=store,
        old_homes=incremental.homes_of(plan.manifest, base=base),
        new_homes=incremental.homes_of(manifest, base=base),
        old_dir=old_dir,
    )
    links = _in_background("links", dump_pieces.link_pieces, old_dir, new_dir, skip=change.new)
    try:
        after = dump_pieces.render_and_write(change.new, directory=new_dir, base=base)
        written(new_dir, old_dir, frozenset(dump_pieces.piece_keys(old_dir)) - set(change.new))
        previous, piece_stats = dump_pieces.load_statistics(old_dir)
        before = {k: piece_stats[k] for k in change.old if k in piece_stats}
        piece_stats.update(after)
        statistics = dump_pieces.updated_statistics(
            previous,
            before=before,
            after=after,
            all_after=piece_stats,
            objects_delta=dump_pieces.objects_delta(change, old_store=old_store, new_store=store),
        )
        dump_pieces.save_statistics(new_dir, statistics, piece_stats=piece_stats)
    except BaseException:
        wait([links])  # the caller removes the directory, once the dumps let go of it too
        raise
    return statistics, links
