"""Write dist/: dumps in every RDF format, checksums, the VoID/DCAT description, the store.

Everything is written into a sibling directory first and swapped in only when complete, so a
failed or interrupted build never replaces a good published dataset.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from publisher import formats, xmlsafe
from publisher.dataset.load import ONTOLOGY_GRAPH, Dataset
from publisher.dataset.search_index import write_search_index
from publisher.dataset.void import void_description
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
from publisher.settings import Settings
from publisher.store.union import store_union_default_graph

log = logging.getLogger(__name__)


def build_time() -> datetime:
    """Now, or SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0)


def _write_gzip(path: Path, data: bytes) -> None:
    # mtime=0 keeps the compressed bytes (and so their checksums) a function of the content.
    with (
        path.open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as stream,
    ):
        stream.write(data)


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
) -> BuildInfo:
    """Write a complete dist/ aside, then swap it in place of `out`."""
    out = out.resolve()
    staging = out.with_name(f".{out.name}.building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        info = _write_dist(dataset, shapes=shapes, target=staging, settings=settings)
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return info


def _write_dist(
    dataset: Dataset, *, shapes: list[ox.Triple], target: Path, settings: Settings
) -> BuildInfo:
    """Every file of dist/ into `target`, in the order their contents depend on each other."""
    base = settings.base_uri
    store = dataset.store
    moment = build_time()
    quads = len(store)  # the named graphs' quads, before the union joins them
    store_union_default_graph(store)
    plain_dumps = _write_dumps(store, target=target, base=base)
    _write_ontology(store, target=target, base=base)
    _write_shapes(shapes, target=target, base=base, moment=moment)
    _copy_examples(settings, target / CQ_DIR)
    _write_context(target=target, base=base)
    _write_store(store, target=target)
    write_search_index(store, base=base, target=target)  # dist/search.sqlite (/search)
    info = BuildInfo(
        build_id=_build_id(target, moment),
        built_at=moment.isoformat().replace("+00:00", "Z"),
        base=base,
        quads=quads,
        triples=len(store) - quads,
        graphs=len(dataset.graph_names()),
    )
    info.write(target)
    _write_description_and_sums(
        store, target=target, settings=settings, info=info, plain_dumps=plain_dumps
    )
    return info


def _write_dumps(store: ox.Store, *, target: Path, base: str) -> dict[str, tuple[int, str]]:
    """One gzip dump per format; returns plain name (dataset.ttl) -> (bytes, sha256) decoded."""
    plain_dumps: dict[str, tuple[int, str]] = {}
    for fmt in formats.DUMP_FORMATS:
        body = serialize_dump(store, fmt, base=base)
        if fmt is formats.RDF_XML and (problem := rdf_xml_dump_problem(store, body)):
            # Never publish broken XML: the other dumps carry the same data.
            log.warning("dataset.rdf.gz left out: %s", problem)
            continue
        _write_gzip(target / formats.dump_name(fmt), body)
        plain_dumps[formats.dump_name(fmt, compressed=False)] = (
            len(body),
            hashlib.sha256(body).hexdigest(),
        )
    return plain_dumps


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


def _write_store(store: ox.Store, *, target: Path) -> None:
    """The store `serve` opens: built from the same quads as the dumps (union included)."""
    disk_store = ox.Store(str(target / STORE_DIR))
    disk_store.bulk_extend(store)
    disk_store.flush()
    disk_store.optimize()
    del disk_store


def _build_id(target: Path, moment: datetime) -> str:
    """A content hash (of the N-Quads dump) and the build time: changes when either does."""
    nquads = (target / formats.dump_name(formats.N_QUADS)).read_bytes()
    return hashlib.sha256(nquads).hexdigest()[:16] + f"-{int(moment.timestamp()):x}"


def _write_description_and_sums(
    store: ox.Store,
    *,
    target: Path,
    settings: Settings,
    info: BuildInfo,
    plain_dumps: dict[str, tuple[int, str]],
) -> None:
    """void.ttl describes every other file (size, checksum); SHA256SUMS covers all of them."""
    files = sorted(p.name for p in target.iterdir() if p.is_file())
    checksums = {name: sha256_file(target / name) for name in files}
    sizes = {name: (target / name).stat().st_size for name in files}
    void_bytes = void_description(
        store,
        settings=settings,
        info=info,
        files={name: (sizes[name], checksums[name]) for name in files},
        plain_dumps=plain_dumps,
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
