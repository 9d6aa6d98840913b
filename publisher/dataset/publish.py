"""Write dist/: dumps in every RDF format, checksums, the VoID/DCAT description, the store.

Everything is written into a sibling directory first and swapped in only when complete, so a
failed or interrupted build never replaces a good published dataset.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from publisher import formats
from publisher.dataset import dump_pieces
from publisher.dataset.load import ONTOLOGY_GRAPH, Dataset
from publisher.dataset.memory import release_freed_memory
from publisher.dataset.search_index import update_search_index, write_search_index
from publisher.dataset.trash import remove_later
from publisher.dataset.void import Statistics, void_description, void_statistics
from publisher.dist import (
    CONTEXT_FILE,
    CQ_DIR,
    ONTOLOGY_FILE,
    SHAPES_FILE,
    STORE_DIR,
    SUMS_FILE,
    VOID_FILE,
    BuildInfo,
)
from publisher.errors import BuildError
from publisher.namespaces import STANDARD_PREFIXES, jsonld_context, prefixes
from publisher.progress import SILENT, Progress
from publisher.settings import Settings
from publisher.textsearch import SEARCH_FILE

log = logging.getLogger(__name__)


def build_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0)


def _copy_examples(settings: Settings, target: Path) -> None:
    """Copy ontology/cq/*.rq into dist/cq/: everything serving needs is in dist/."""
    source = Path(settings.ontology_dir) / "cq" if settings.ontology_dir else None
    target.mkdir()
    if source is not None and source.is_dir():
        for query in sorted(source.glob("*.rq")):
            shutil.copyfile(query, target / query.name)


def shapes_document(base: str, moment: datetime) -> list[ox.Triple]:
    """What /shapes says about itself: the document, what it is for, when it was built."""
    ns = STANDARD_PREFIXES
    document = ox.NamedNode(base + "shapes")

    def iri(prefix: str, local: str) -> ox.NamedNode:
        return ox.NamedNode(ns[prefix] + local)

    built = moment.isoformat().replace("+00:00", "Z")
    return [
        ox.Triple(document, iri("rdf", "type"), iri("foaf", "Document")),
        ox.Triple(document, iri("rdf", "type"), iri("prov", "Entity")),
        ox.Triple(
            document,
            iri("dct", "title"),
            ox.Literal("SHACL shapes every build of the dataset satisfies", language="en"),
        ),
        ox.Triple(document, iri("dct", "conformsTo"), ox.NamedNode(ns["sh"])),
        ox.Triple(document, iri("dct", "isPartOf"), ox.NamedNode(base + "dataset")),
        ox.Triple(
            document, iri("dct", "modified"), ox.Literal(built, datatype=iri("xsd", "dateTime"))
        ),
    ]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def staging_dir(out: Path) -> Path:
    """Where a build of `out` is written before the swap: a new name every time (a store
    left open by a failed build keeps its path locked in this process)."""
    out = out.resolve()
    return out.with_name(f".{out.name}.building-{os.getpid()}-{time.time_ns()}")


@dataclass(frozen=True)
class UpdatedStore:
    """An incremental build's store: already in the staging directory (dist's store/), its
    union default graph up to date (publisher.dataset.incremental)."""

    quads: int  # in the named graphs
    triples: int  # in the union
    statistics: Statistics  # of the updated store
    # The files the build started writing into the staging directory as soon as their inputs
    # were there (publisher.dataset.pipeline): search.sqlite (name, SHA-256) once the store
    # was updated, the dumps once the changed pieces were written.
    search: Future[tuple[str, str]]
    dumps: Future[WrittenDumps]


def publish(
    dataset: Dataset,
    *,
    shapes: list[ox.Triple],
    out: Path,
    settings: Settings,
    progress: Progress = SILENT,
    updated: UpdatedStore | None = None,
    staging: Path | None = None,
    pieces_dir: Path,
    before_swap: Callable[[Path], object] | None = None,
    union: tuple[int, int] | None = None,
) -> BuildInfo:
    """Write a complete dist/ aside, then swap it in place of `out`. With `updated`,
    `staging` exists and holds the store (dataset.store) already. `before_swap` runs on the
    complete staging directory (publisher/prerender.py adds the rendered /doc/ variants).
    `union`: a full build's union is in the store already (store_union gave these counts)."""
    out = out.resolve()
    if staging is None:
        staging = staging_dir(out)
        staging.mkdir(parents=True)
    try:
        info = _write_dist(
            dataset,
            shapes=shapes,
            target=staging,
            settings=settings,
            progress=progress,
            updated=updated,
            pieces_dir=pieces_dir,
            union=union,
        )
        if before_swap is not None:
            before_swap(staging)
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return info


def _workers() -> int:
    # Twice the cores: the tasks spend most of their time in Rust/C without the GIL, and a
    # dump body is held only while it is compressed (memory grows with the workers).
    return max(4, 2 * (os.cpu_count() or 2))


# How long a thread may hold the GIL while another waits for it, while dist/'s writers run side
# by side. The writers are mostly Rust and C (without the GIL) with Python in between: a pieces
# worker back from zlib or a serializer waited up to the default 5 ms for a thread looping in
# Python (the search index, the split of the union's lines), a dozen times per piece. At 1,000
# documents the publish phase took 21.7-23.1 s with 5 ms and 10.7-16.4 s with 0.5 ms (the
# machine shared; the same process CPU).
DIST_SWITCH_INTERVAL = 0.0005


@contextmanager
def gil_switch_interval(seconds: float) -> Iterator[None]:
    """sys.setswitchinterval(seconds) for the block (the process's setting: restored after)."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _write_dist(
    dataset: Dataset,
    *,
    shapes: list[ox.Triple],
    target: Path,
    settings: Settings,
    progress: Progress = SILENT,
    updated: UpdatedStore | None = None,
    pieces_dir: Path,
    union: tuple[int, int] | None = None,
) -> BuildInfo:
    """Every file of dist/ into `target`; the dumps' pieces into `pieces_dir` (a full build
    writes them all; an incremental one has written the changed ones already).

    The dump pieces, the on-disk store, the search index and the VoID statistics are
    independent once the union is in the store, so they run in threads (pyoxigraph's writers,
    queries and bulk loader, zlib and ISA-L release the GIL). An incremental build has its
    store and statistics already: it assembles the dumps and updates the search index.
    void.ttl and SHA256SUMS come last: they describe every other file.
    """
    base = settings.base_uri
    store = dataset.store
    moment = build_time()
    graphs = len(dataset.graph_names())
    if updated is None:
        if union is None:
            with progress.step("union", total=1) as advance:
                union = store_union(store)
                advance(1)
        quads, triples = union
    else:
        quads, triples = updated.quads, updated.triples
    _write_ontology(store, target=target, base=base)
    _write_shapes(shapes, target=target, base=base, moment=moment)
    _copy_examples(settings, target / CQ_DIR)
    _write_context(target=target, base=base)

    with (
        gil_switch_interval(DIST_SWITCH_INTERVAL),
        ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="dist") as pool,
        progress.step("dumps+store", total=4 if updated is None else 2) as advance,
    ):
        tasks: list[Future] = []
        objects: Future[int | None] | None = None
        if updated is None:
            # The pieces first (the longest task); their homes before any thread starts (a
            # Python loop, which the store's bulk_extend below would slow down on the GIL).
            homes = dump_pieces.homes_from_dataset(dataset, data_dir=Path(settings.data_dir))
            pieces = pool.submit(
                _write_pieces_and_dumps,
                store,
                homes=homes,
                pieces=pieces_dir,
                target=target,
                base=base,
            )
            # VoID's statistics are summed from the pieces' own; only the distinct objects
            # are counted on the whole store (void_statistics: 9 s at 10,000 documents).
            objects = pool.submit(_distinct_objects, store)
            # The store serving opens, bulk-loaded from the same quads (union included).
            disk = pool.submit(_write_store, store, target=target)
            # dist/search.sqlite (/search, /reconcile), from the same in-memory store.
            search = pool.submit(
                _hashed, lambda: _write_search_index(store, base=base, target=target)
            )
            tasks += [pieces, objects, disk, search]
        else:
            search, pieces = updated.search, updated.dumps
            tasks += [search, pieces]
        for task in tasks:
            task.add_done_callback(lambda _f: advance(1))
        for task in tasks:
            task.result()
        written = pieces.result()
    if objects is not None:
        stats = _full_statistics(store, written.piece_stats, objects=objects.result(), base=base)
        dump_pieces.save_statistics(pieces_dir, stats, piece_stats=written.piece_stats)
    else:
        assert updated is not None
        stats = updated.statistics

    plain_dumps = {
        d.name.removesuffix(".gz"): (d.plain_size, d.plain_sha256) for d in written.dumps
    }
    gz_sums = {d.name: d.gz_sha256 for d in written.dumps}
    search_name, search_sha256 = search.result()
    info = BuildInfo(
        build_id=_build_id(gz_sums[formats.dump_name(formats.N_QUADS)], moment),
        built_at=moment.isoformat().replace("+00:00", "Z"),
        base=base,
        quads=quads,
        triples=triples,
        graphs=graphs,
    )
    info.write(target)
    _write_description_and_sums(
        stats,
        target=target,
        settings=settings,
        info=info,
        plain_dumps=plain_dumps,
        known_sums={**gz_sums, search_name: search_sha256},
    )
    return info


def _hashed(write: Callable[[], Path]) -> tuple[str, str]:
    """Write a file; its name and checksum, computed in the same worker thread (hashlib
    releases the GIL) rather than after every other file is written."""
    path = write()
    return path.name, sha256_file(path)


@dataclass(frozen=True)
class WrittenDumps:
    dumps: list[dump_pieces.AssembledDump]
    piece_stats: dict[str, dump_pieces.PieceStats]


def _write_pieces_and_dumps(
    store: ox.Store, *, homes: dump_pieces.Homes, pieces: Path, target: Path, base: str
) -> WrittenDumps:
    piece_stats = dump_pieces.write_all(store, homes=homes, directory=pieces, base=base)
    return WrittenDumps(assemble_dumps(pieces, target=target, base=base).dumps, piece_stats)


def _distinct_objects(store: ox.Store) -> int | None:
    """The union's distinct objects; None when a named graph is a blank node (the pieces
    name graphs by IRI: void_statistics counts then)."""
    if any(isinstance(graph, ox.BlankNode) for graph in store.named_graphs()):
        return None
    query = "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }"
    return int(next(iter(store.query(query)))["n"].value)


def _full_statistics(
    store: ox.Store,
    piece_stats: dict[str, dump_pieces.PieceStats],
    *,
    objects: int | None,
    base: str,
) -> Statistics:
    summed = None
    if objects is not None:
        summed = dump_pieces.statistics_from_pieces(piece_stats, objects=objects)
    return summed if summed is not None else void_statistics(store, base=base)


def updated_search_index(
    previous_dist: Path,
    store: ox.Store,
    *,
    base: str,
    target: Path,
    subjects: frozenset[str],
    copy: Future[Path] | None = None,
) -> tuple[str, str]:
    """An incremental build's search.sqlite in `target` (the previous one updated for
    `subjects`; `copy`: the previous one being copied already): its name and checksum."""
    return _hashed(
        lambda: update_search_index(
            previous_dist / SEARCH_FILE,
            store,
            base=base,
            target=target,
            subjects=subjects,
            copied=copy.result() if copy is not None else None,
        )
    )


def assemble_dumps(
    pieces: Path,
    *,
    target: Path,
    base: str,
    previous: Path | None = None,
    previous_dumps: Path | None = None,
    unchanged: frozenset[str] = frozenset(),
) -> WrittenDumps:
    """The dumps, from the pieces (see dump_pieces.assemble for `previous`, `previous_dumps`
    and `unchanged`)."""
    left_out: set[str] = set()
    if problems := dump_pieces.rdf_xml_problems(pieces, previous=previous, unchanged=unchanged):
        # Never publish broken XML: the other dumps carry the same data.
        log.warning("dataset.rdf.gz left out: %s", problems[0])
        left_out.add(formats.RDF_XML.name)
    return WrittenDumps(
        dump_pieces.assemble(
            pieces,
            target=target,
            base=base,
            left_out=left_out,
            previous=previous,
            previous_dumps=previous_dumps,
            unchanged=unchanged,
        ),
        {},
    )


# Quads per bulk_extend call when the disk store is written. One call for all of them held
# about 1.2 KB per quad in the bulk loader (+615 MB for the 512k quads of 1,000 documents);
# calls of 100k quads held +100-160 MB whatever the size, for about 10 % more CPU.
DISK_STORE_CHUNK = 100_000


def _write_store(store: ox.Store, *, target: Path) -> None:
    """The store `serve` opens: the same quads (union included), by Oxigraph's bulk loader
    fed from the in-memory store itself, in chunks (memory stays bounded). Measured at 1,000
    documents (512k quads): about two thirds of the CPU of dumping N-Quads and parsing them
    back, and no dump body held in memory (about 1 GB at 10,000 documents)."""
    disk_store = ox.Store(str(target / STORE_DIR))
    quads = iter(store)
    while chunk := list(itertools.islice(quads, DISK_STORE_CHUNK)):
        disk_store.bulk_extend(chunk)
    disk_store.flush()
    disk_store.optimize()
    del disk_store
    release_freed_memory()


def _write_search_index(store: ox.Store, *, base: str, target: Path) -> Path:
    try:
        return write_search_index(store, base=base, target=target)
    finally:
        release_freed_memory()  # its rows (hundreds of MB at 10,000 documents) are freed


def store_union(store: ox.Store) -> tuple[int, int]:
    """The union of the named graphs into the default graph, as a set (store/union.py says
    why), by one SPARQL update: no Python loop over the quads. Returns the quads of the named
    graphs and the triples of the union."""
    quads = len(store)  # the named graphs' quads, before the union joins them
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    return quads, len(store) - quads


def _write_ontology(store: ox.Store, *, target: Path, base: str) -> None:
    ontology_graph = ox.NamedNode(base + ONTOLOGY_GRAPH)
    (target / ONTOLOGY_FILE).write_bytes(
        ox.serialize(
            (
                ox.Triple(q.subject, q.predicate, q.object)
                for q in store.quads_for_pattern(None, None, None, ontology_graph)
            ),
            format=ox.RdfFormat.TURTLE,
            prefixes=prefixes(base),
        )
    )


def _write_shapes(shapes: list[ox.Triple], *, target: Path, base: str, moment: datetime) -> None:
    (target / SHAPES_FILE).write_bytes(
        ox.serialize(
            [*shapes_document(base, moment), *shapes],
            format=ox.RdfFormat.TURTLE,
            prefixes=prefixes(base),
        )
    )


def _write_context(*, target: Path, base: str) -> None:
    (target / CONTEXT_FILE).write_text(
        json.dumps(jsonld_context(base), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def _build_id(nquads_gz_sha256: str, moment: datetime) -> str:
    """A content hash (of the N-Quads dump) and the build time: changes when either does."""
    return nquads_gz_sha256[:16] + f"-{int(moment.timestamp()):x}"


def _write_description_and_sums(
    statistics: Statistics,
    *,
    target: Path,
    settings: Settings,
    info: BuildInfo,
    plain_dumps: dict[str, tuple[int, str]],
    known_sums: dict[str, str],
) -> None:
    """void.ttl describes every other file (size, checksum); SHA256SUMS covers all of them.
    `known_sums`: checksums computed while writing (the dumps), not read back."""
    files = sorted(p.name for p in target.iterdir() if p.is_file())
    checksums = {name: known_sums.get(name) or sha256_file(target / name) for name in files}
    sizes = {name: (target / name).stat().st_size for name in files}
    void_bytes = void_description(
        None,
        settings=settings,
        info=info,
        files={name: (sizes[name], checksums[name]) for name in files},
        plain_dumps=plain_dumps,
        statistics=statistics,
    )
    (target / VOID_FILE).write_bytes(void_bytes)
    checksums[VOID_FILE] = sha256_file(target / VOID_FILE)
    sums = io.StringIO()
    for name in sorted(checksums):
        sums.write(f"{checksums[name]}  {name}\n")
    (target / SUMS_FILE).write_text(sums.getvalue(), encoding="utf-8")


def _swap_into_place(staging: Path, out: Path) -> None:
    """Replace `out` by `staging`: two renames on the same filesystem.

    The replaced build is kept beside it (``.dist.retired-*``) until the next build, because
    serving processes may still read its store until they notice the new build
    (reload_check_ms); older retired builds are removed first.
    """
    remove_later(list(out.parent.glob(f".{out.name}.retired-*")))
    retired = out.with_name(f".{out.name}.retired-{os.getpid()}-{time.time_ns()}")
    if out.exists():
        if not out.is_dir():
            raise BuildError(f"{out} exists and is not a directory")
        os.rename(out, retired)
    try:
        os.rename(staging, out)
    except OSError:
        if retired.exists():
            os.rename(retired, out)
        raise
