"""Write dist/: dumps in every RDF format, checksums, the VoID/DCAT description, the store.

Everything is written into a sibling directory first and swapped in only when complete, so a
failed or interrupted build never replaces a good published dataset.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import shutil
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from isal import igzip

from publisher import formats, xmlsafe
from publisher.dataset.load import ONTOLOGY_GRAPH, Dataset
from publisher.dataset.search_index import write_search_index
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

log = logging.getLogger(__name__)


def build_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0)


# ISA-L's level 2 compresses about ten times faster than zlib's level 6 to about the same size
# (1M-triple N-Quads: ratio 0.067 against 0.066), and releases the GIL, so dumps compress in
# parallel threads. The output is standard gzip (RFC 1952): gzip, zlib and every client read it.
GZIP_LEVEL = 2


def gzip_bytes(data: bytes) -> bytes:
    # mtime=0 keeps the compressed bytes (and so their checksums) a function of the content.
    return igzip.compress(data, GZIP_LEVEL, mtime=0)


def _write_gzip(path: Path, data: bytes) -> str:
    """Write `data` gzip-compressed; return the SHA-256 of the written file."""
    compressed = gzip_bytes(data)
    path.write_bytes(compressed)
    return hashlib.sha256(compressed).hexdigest()


def serialize_dump(store: ox.Store, fmt: formats.Format, *, base: str) -> bytes:
    """The whole dataset in one format.

    `store` holds the union of the named graphs in its default graph (store/union.py). Every
    format's default graph is that union (a client reading only the default graph of any dump
    gets the same triples); the dataset formats also carry the named graphs (provenance).
    The store orders the triples by subject, so Turtle groups them without a Python sort.
    """
    return fmt.write(store, prefixes=prefixes(base), base=base)


def rdf_xml_dump_problem(store: ox.Store, body: bytes) -> str | None:
    """Why the RDF/XML dump would not be well-formed XML, or None. Fast path: the written bytes
    and the distinct predicates; only a failure walks the triples to name the term."""
    predicates = [row["p"] for row in store.query("SELECT DISTINCT ?p WHERE { ?s ?p ?o }")]
    for predicate in predicates:
        if problem := xmlsafe.predicate_problem(predicate):
            return problem
    if xmlsafe.has_forbidden_bytes(body):
        return xmlsafe.rdf_xml_problem(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    return None


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


def publish(
    dataset: Dataset,
    *,
    shapes: list[ox.Triple],
    out: Path,
    settings: Settings,
    progress: Progress = SILENT,
) -> BuildInfo:
    """Write a complete dist/ aside, then swap it in place of `out`."""
    out = out.resolve()
    staging = out.with_name(f".{out.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        info = _write_dist(
            dataset, shapes=shapes, target=staging, settings=settings, progress=progress
        )
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return info


@dataclass(frozen=True)
class Dump:
    """A written dump: its .gz file's checksum, and the size and checksum of its content."""

    name: str  # dataset.ttl.gz
    gz_sha256: str
    plain_size: int
    plain_sha256: str


def _workers() -> int:
    # Twice the cores: the tasks spend most of their time in Rust/C without the GIL, and a
    # dump body is held only while it is compressed (memory grows with the workers).
    return max(4, 2 * (os.cpu_count() or 2))


def _write_dist(
    dataset: Dataset,
    *,
    shapes: list[ox.Triple],
    target: Path,
    settings: Settings,
    progress: Progress = SILENT,
) -> BuildInfo:
    """Every file of dist/ into `target`.

    The dumps, the on-disk store and the VoID statistics are independent once the union is in
    the store, so they run in threads: pyoxigraph's serializers, queries and bulk loader and
    the ISA-L compressor release the GIL (the JSON-LD compactor, pure Python, holds it; it
    starts first). The store is loaded from the N-Quads dump's bytes by Oxigraph's parallel
    bulk loader. void.ttl and SHA256SUMS come last: they describe every other file.
    """
    base = settings.base_uri
    store = dataset.store
    moment = build_time()
    quads = len(store)  # the named graphs' quads, before the union joins them
    graphs = len(dataset.graph_names())
    with progress.step("union", total=1) as advance:
        store_union_in_rust(store)
        advance(1)
    triples = len(store) - quads
    _write_ontology(store, target=target, base=base)
    _write_shapes(shapes, target=target, base=base, moment=moment)
    _copy_examples(settings, target / CQ_DIR)
    _write_context(target=target, base=base)

    # JSON-LD (Python) first, N-Quads next (the store waits for its bytes), then the rest.
    order = sorted(
        formats.DUMP_FORMATS,
        key=lambda f: (f is not formats.JSON_LD, f is not formats.N_QUADS),
    )
    with (
        ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="dist") as pool,
        progress.step("dumps+store", total=len(order) + 3) as advance,
    ):
        nquads_ready: Future[bytes] = Future()
        statistics = pool.submit(void_statistics, store, base=base)
        tasks: list[Future] = [statistics]
        dumps: list[Future[Dump]] = []
        for fmt in order:
            dumps.append(
                pool.submit(_write_dump, store, fmt, target=target, base=base, nquads=nquads_ready)
            )
            if fmt is formats.N_QUADS:
                # Queued after the N-Quads dump (FIFO), so it never waits on a dump not started.
                disk = pool.submit(_write_store_from_nquads, nquads_ready, target=target)
        # dist/search.sqlite (/search, /reconcile), from the same in-memory store.
        tasks += [*dumps, disk, pool.submit(write_search_index, store, base=base, target=target)]
        for task in tasks:
            task.add_done_callback(lambda _f: advance(1))
        written = [d.result() for d in dumps]
        disk.result()
        stats = statistics.result()

    plain_dumps = {
        d.name.removesuffix(".gz"): (d.plain_size, d.plain_sha256) for d in written if d.name
    }
    gz_sums = {d.name: d.gz_sha256 for d in written if d.name}
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
        known_sums=gz_sums,
    )
    return info


def store_union_in_rust(store: ox.Store) -> None:
    """The union of the named graphs into the default graph, as a set (store/union.py says
    why), by one SPARQL update: no Python loop over the quads."""
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")


def _write_dump(
    store: ox.Store, fmt: formats.Format, *, target: Path, base: str, nquads: Future[bytes]
) -> Dump:
    """One gzip dump (an empty name: left out). The N-Quads body is handed to the store."""
    try:
        body = serialize_dump(store, fmt, base=base)
    except BaseException as error:
        if fmt is formats.N_QUADS:
            nquads.set_exception(error)
        raise
    if fmt is formats.N_QUADS:
        nquads.set_result(body)
    if fmt is formats.RDF_XML and (problem := rdf_xml_dump_problem(store, body)):
        # Never publish broken XML: the other dumps carry the same data.
        log.warning("dataset.rdf.gz left out: %s", problem)
        return Dump("", "", 0, "")
    name = formats.dump_name(fmt)
    gz_sha256 = _write_gzip(target / name, body)
    return Dump(name, gz_sha256, len(body), hashlib.sha256(body).hexdigest())


def _write_store_from_nquads(nquads: Future[bytes], *, target: Path) -> None:
    """The store `serve` opens, loaded from the N-Quads dump (union included): the same quads."""
    body = nquads.result()
    disk_store = ox.Store(str(target / STORE_DIR))
    disk_store.bulk_load(body, format=ox.RdfFormat.N_QUADS)
    del body
    disk_store.flush()
    disk_store.optimize()
    del disk_store


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
    for old in out.parent.glob(f".{out.name}.retired-*"):
        shutil.rmtree(old, ignore_errors=True)
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
