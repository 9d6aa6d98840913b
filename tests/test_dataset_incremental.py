"""The incremental rebuild (publisher.dataset.incremental): after a curator edits, adds or
deletes a few files, `build` takes the previous store plus the delta, and publishes exactly
what a full build of the same files publishes."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import sqlite3
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from source_corpus import write_corpus

from publisher import formats
from publisher.cli import main
from publisher.dataset import dump_pieces, incremental
from publisher.dataset.pipeline import build_dataset
from publisher.dataset.void import void_statistics
from publisher.dist import STORE_DIR, BuildInfo, cache_root
from publisher.errors import ValidationFailed
from publisher.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://incremental.example/"
DOCS = 8


def settings_for(data: Path, dist: Path, **extra: str):
    values = {
        "base_uri": BASE,
        "data_dir": str(data),
        "ontology_dir": str(ROOT / "ontology"),
        "shapes_dir": str(ROOT / "shapes"),
        "dist_dir": str(dist),
    }
    return load_settings({**values, **extra}, environ={})


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small corpus, one document held back (to be added later), built once."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data = tmp_path / "data"
    write_corpus(data, docs=DOCS + 1, seed=3)
    held = sorted((data / "sources").glob("*.trig"))[-1]
    shutil.move(held, tmp_path / held.name)
    built = build_dataset(settings_for(data, tmp_path / "dist"))
    assert built.changed_files is None and "no manifest" in built.full_because
    return data


def sources(data: Path) -> list[Path]:
    return sorted((data / "sources").glob("*.trig"))


def quads_of_store(dist: Path) -> set[ox.Quad]:
    return set(ox.Store.read_only(str(dist / STORE_DIR)))


def dump_quads(dist: Path, fmt: formats.Format) -> set[ox.Quad]:
    body = gzip.decompress((dist / formats.dump_name(fmt)).read_bytes())
    return set(ox.parse(body, format=fmt.oxigraph, base_iri=BASE))


def search_rows(dist: Path) -> dict[str, list[tuple]]:
    """The search index's rows, with entity row ids replaced by the entity's IRI (row ids
    follow the order the store gives, which is not part of what the index says)."""
    with sqlite3.connect(dist / "search.sqlite") as db:
        iri = dict(db.execute("SELECT id, iri FROM entity"))

        def rows(query: str, *, entity_column: int | None = None) -> list[tuple]:
            found = []
            for row in db.execute(query):
                row = list(row)
                if entity_column is not None:
                    row[entity_column] = iri[row[entity_column]]
                found.append(tuple(row))
            return sorted(found)

        return {
            "meta": rows("SELECT * FROM meta"),
            "entity": rows("SELECT iri, label, type, type_label FROM entity"),
            "entity_type": rows("SELECT entity, type FROM entity_type", entity_column=0),
            "class": rows("SELECT * FROM class"),
            "property": rows("SELECT * FROM property"),
            "name": rows(
                "SELECT entity, text, folded, lang, kind, source FROM name", entity_column=0
            ),
        }


def assert_same_as_a_full_build(data: Path, dist: Path, tmp_path: Path) -> None:
    """A full build of the same files (own dist/, own cache) publishes the same statements,
    statistics, counts and search index."""
    full = tmp_path / f"full-{len(list(tmp_path.iterdir()))}"
    reference = build_dataset(settings_for(data, full), full=True)
    assert reference.changed_files is None
    assert quads_of_store(dist) == quads_of_store(full)
    for fmt in formats.DUMP_FORMATS:
        assert dump_quads(dist, fmt) == dump_quads(full, fmt), fmt.name
        # The same pieces, rendered by the same function: the same bytes.
        name = formats.dump_name(fmt)
        assert (dist / name).read_bytes() == (full / name).read_bytes(), name
    ours, theirs = BuildInfo.read(dist), BuildInfo.read(full)
    assert (ours.quads, ours.triples, ours.graphs) == (theirs.quads, theirs.triples, theirs.graphs)
    stats = [
        void_statistics(ox.Store.read_only(str(d / STORE_DIR)), base=BASE) for d in (dist, full)
    ]
    assert stats[0] == stats[1]
    assert search_rows(dist) == search_rows(full)
    # The checksums (resumed after the unchanged pieces: resumable_sha256) are the files'.
    assert stated_checksums(dist) == stated_checksums(full) == real_checksums(dist)


SPDX = "http://spdx.org/rdf/terms#"


def stated_checksums(dist: Path) -> dict[str, str]:
    """Each dump's checksum as void.ttl and SHA256SUMS state it (plain names: decoded)."""
    void = list(ox.parse(path=dist / "void.ttl", format=ox.RdfFormat.TURTLE))
    value = {t.subject: t.object.value for t in void if t.predicate.value == SPDX + "checksumValue"}
    stated = {
        t.subject.value.rsplit("/", 1)[1]: value[t.object]
        for t in void
        if t.predicate.value == SPDX + "checksum" and "/dumps/dataset." in t.subject.value
    }
    for line in (dist / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        if name.startswith("dataset."):
            assert stated[name] == digest, name
    return stated


def real_checksums(dist: Path) -> dict[str, str]:
    sums = {}
    for fmt in formats.DUMP_FORMATS:
        name = formats.dump_name(fmt)
        body = (dist / name).read_bytes()
        sums[name] = hashlib.sha256(body).hexdigest()
        sums[name.removesuffix(".gz")] = hashlib.sha256(gzip.decompress(body)).hexdigest()
    return sums


def test_editing_one_document_rebuilds_only_its_delta(corpus: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    target = sources(corpus)[2]
    text = target.read_text(encoding="utf-8")
    label = text.split('rdfs:label "', 2)[2].split('"', 1)[0]  # a statement's label
    target.write_text(
        text.replace(f'"{label}"', '"Xocalı — Ходжалы, relabelled"', 1), encoding="utf-8"
    )
    built = build_dataset(settings_for(corpus, dist))
    assert built.changed_files == [f"sources/{target.name}"]
    assert built.report is not None and built.report.conforms
    # The gate was told what changed: it planned and validated that document only.
    assert (built.report.validated, built.report.planned) == (1, 1)
    # Every dump's checksum chain is kept with the pieces, for the next build to resume.
    settings = settings_for(corpus, dist)
    directory = incremental.incremental_dir(cache_root(settings.dist_dir, settings.cache_dir))
    manifest = incremental.Manifest.read(directory)
    chains = sorted(p.name for p in (directory / manifest.pieces).glob("chain.*"))
    assert chains == sorted(f"chain.{fmt.name}" for fmt in formats.DUMP_FORMATS)
    store = ox.Store.read_only(str(dist / STORE_DIR))
    relabelled = ox.Literal("Xocalı — Ходжалы, relabelled", language="en")
    assert len(list(store.quads_for_pattern(None, None, relabelled, ox.DefaultGraph()))) == 1
    old = list(store.quads_for_pattern(None, None, ox.Literal(label, language="en"), None))
    assert old == []
    assert_same_as_a_full_build(corpus, dist, tmp_path)


def test_adding_deleting_and_editing_shared_files(corpus: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    held = next(tmp_path.glob("*.trig"))
    shutil.move(held, corpus / "sources" / held.name)
    gone = sources(corpus)[0]
    gone.unlink()
    built = build_dataset(settings_for(corpus, dist))
    assert built.changed_files == sorted([f"sources/{held.name}", f"sources/{gone.name}"])
    assert_same_as_a_full_build(corpus, dist, tmp_path)
    # The shared entities: a new name in Azerbaijani and Russian for a place.
    curated = corpus / "curated.trig"
    text = curated.read_text(encoding="utf-8")
    place = text.split("<id/place/", 1)[1].split(">", 1)[0]
    extra = (
        f"\n<graph/curated> {{ <id/place/{place}> <http://www.w3.org/2004/02/skos/core#altLabel> "
        '"Xocalı rayonu"@az , "Ходжалинский район"@ru . }\n'
    )
    curated.write_text(text + extra, encoding="utf-8")
    built = build_dataset(settings_for(corpus, dist))
    assert built.changed_files == ["curated.trig"]
    assert_same_as_a_full_build(corpus, dist, tmp_path)
    # And back: the names leave the store, the search index and every dump.
    curated.write_text(text, encoding="utf-8")
    assert build_dataset(settings_for(corpus, dist)).changed_files == ["curated.trig"]
    store = ox.Store.read_only(str(dist / STORE_DIR))
    assert not list(store.quads_for_pattern(None, None, ox.Literal("Xocalı rayonu", language="az")))
    assert_same_as_a_full_build(corpus, dist, tmp_path)


def test_a_statement_another_file_also_makes_stays(corpus: Path, tmp_path: Path) -> None:
    """Two files state the same quad in one graph: when one stops, the quad stays (and so
    does its triple in the union)."""
    dist = tmp_path / "dist"
    both = (
        "<graph/provenance> { <id/organisation/shared-agent> "
        '<http://www.w3.org/2000/01/rdf-schema#label> "Ортак агент / Ümumi agent"@az . }\n'
    )
    first, second = sources(corpus)[:2]
    for path in (first, second):
        path.write_text(path.read_text(encoding="utf-8") + both, encoding="utf-8")
    build_dataset(settings_for(corpus, dist), full=True)
    first.write_text(first.read_text(encoding="utf-8").replace(both, ""), encoding="utf-8")
    built = build_dataset(settings_for(corpus, dist))
    assert built.changed_files == [f"sources/{first.name}"]
    store = ox.Store.read_only(str(dist / STORE_DIR))
    agent = ox.NamedNode(BASE + "id/organisation/shared-agent")
    assert len(list(store.quads_for_pattern(agent, None, None, None))) == 2  # graph + union
    assert_same_as_a_full_build(corpus, dist, tmp_path)
    second.write_text(second.read_text(encoding="utf-8").replace(both, ""), encoding="utf-8")
    assert build_dataset(settings_for(corpus, dist)).changed_files == [f"sources/{second.name}"]
    store = ox.Store.read_only(str(dist / STORE_DIR))
    assert list(store.quads_for_pattern(agent, None, None, None)) == []
    assert_same_as_a_full_build(corpus, dist, tmp_path)


def test_an_edit_that_breaks_the_shapes_leaves_dist_untouched(corpus: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    before = BuildInfo.read(dist)
    files = {p.name for p in dist.iterdir()}
    target = sources(corpus)[1]
    good = target.read_text(encoding="utf-8")
    # A date that is not one.
    broken = good.replace('dct:issued "', 'dct:issued "not a date ', 1)
    assert broken != good
    target.write_text(broken, encoding="utf-8")
    with pytest.raises(ValidationFailed) as refused:
        build_dataset(settings_for(corpus, dist))
    assert target.name in str(refused.value)
    assert BuildInfo.read(dist) == before and {p.name for p in dist.iterdir()} == files
    assert not list(tmp_path.glob(".dist.building-*"))  # the staging directory is gone
    target.write_text(good, encoding="utf-8")
    built = build_dataset(settings_for(corpus, dist))
    assert built.changed_files == []  # the manifest still describes the good build
    assert_same_as_a_full_build(corpus, dist, tmp_path)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("shapes", "settings, ontology, shapes or publisher code changed"),
        ("blank node", "has blank nodes"),
        ("many files", "files changed (more than"),
        ("dist replaced", "is not the build the manifest describes"),
    ],
)
def test_what_forces_a_full_build_is_said(
    corpus: Path, tmp_path: Path, change: str, reason: str
) -> None:
    dist = tmp_path / "dist"
    extra: dict[str, str] = {}
    if change == "shapes":
        shapes = tmp_path / "shapes"
        shutil.copytree(ROOT / "shapes", shapes)
        with (shapes / "extra.ttl").open("w", encoding="utf-8") as stream:
            stream.write("# a new shapes file\n")
        extra["shapes_dir"] = str(shapes)
    elif change == "blank node":
        target = sources(corpus)[0]
        target.write_text(
            target.read_text(encoding="utf-8")
            + '<graph/provenance> { [] <http://www.w3.org/2000/01/rdf-schema#label> "x" . }\n',
            encoding="utf-8",
        )
    elif change == "many files":
        for index in range(60):
            (corpus / f"extra-{index}.ttl").write_text(
                f'<id/thing/extra-{index}> <http://www.w3.org/2000/01/rdf-schema#comment> "x" .\n',
                encoding="utf-8",
            )
    else:  # another build (with its own cache) of other data replaced dist/
        target = sources(corpus)[0]
        other = '<graph/provenance> { <id/x> <http://www.w3.org/2000/01/rdf-schema#label> "y" . }'
        target.write_text(target.read_text(encoding="utf-8") + other, encoding="utf-8")
        build_dataset(settings_for(corpus, dist, cache_dir=str(tmp_path / "other-cache")))
    built = build_dataset(settings_for(corpus, dist, **extra), check=change != "many files")
    assert built.changed_files is None
    assert reason in built.full_because
    if change == "many files":
        assert_same_as_a_full_build(corpus, dist, tmp_path)


def test_the_cli_says_what_kind_of_build_it_made(corpus: Path, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    target = sources(corpus)[3]
    target.write_text(target.read_text(encoding="utf-8") + "# saved\n", encoding="utf-8")
    options = ["--base", BASE, "--data", str(corpus), "--out", str(dist)]
    options += ["--ontology", str(ROOT / "ontology"), "--shapes", str(ROOT / "shapes")]
    runner = CliRunner()
    result = runner.invoke(main, ["build", *options])
    assert result.exit_code == 0, result.output
    assert f"Incremental: 1 changed file(s) (sources/{target.name})." in result.output
    result = runner.invoke(main, ["build", "--full", *options])
    assert result.exit_code == 0, result.output
    assert "Full build (a full build was asked for)." in result.output


def test_big_files_spread_their_subjects_and_still_rebuild_exactly(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file above SPREAD_BYTES (a bulk dump, not one document) spreads its subjects over
    every piece; here every file is 'big', and a rebuild still equals a full build."""
    monkeypatch.setattr(dump_pieces, "SPREAD_BYTES", 1_000)
    dist = tmp_path / "dist"
    build_dataset(settings_for(corpus, dist), full=True)
    pieces = {
        p.name.split(".")[0] for p in (tmp_path / "dist.cache" / "incremental").glob("pieces-*/*")
    }
    assert len(pieces) > 4 * DOCS  # not a piece or two per file
    target = sources(corpus)[4]
    text = target.read_text(encoding="utf-8")
    label = text.split('rdfs:label "', 2)[2].split('"', 1)[0]
    target.write_text(text.replace(f'"{label}"', '"Ходжалы"', 1), encoding="utf-8")
    assert build_dataset(settings_for(corpus, dist)).changed_files == [f"sources/{target.name}"]
    assert_same_as_a_full_build(corpus, dist, tmp_path)


def test_a_graph_another_file_starts_writing(corpus: Path, tmp_path: Path) -> None:
    """A new file writes into a document's graph, about that document's subjects and a new
    one: the graph is now written by two files, and every subject in it keeps one home."""
    dist = tmp_path / "dist"
    document = sources(corpus)[2]
    graph = document.stem
    text = document.read_text(encoding="utf-8")
    subject = text.split(f"<graph/{graph}> {{", 1)[1].split("<", 1)[1].split(">", 1)[0]
    (corpus / "addendum.trig").write_text(
        f"<graph/{graph}> {{\n"
        f'  <{subject}> <http://www.w3.org/2004/02/skos/core#altLabel> "Xocalı"@az .\n'
        f'  <id/thing/addendum> <http://www.w3.org/2000/01/rdf-schema#label> "Ходжалы"@ru .\n'
        "}\n",
        encoding="utf-8",
    )
    built = build_dataset(settings_for(corpus, dist), check=False)
    assert built.changed_files == ["addendum.trig"]
    assert_same_as_a_full_build(corpus, dist, tmp_path)
    label = text.split('rdfs:label "', 2)[2].split('"', 1)[0]
    document.write_text(text.replace(f'"{label}"', '"Xocalı (edited)"', 1), encoding="utf-8")
    assert build_dataset(settings_for(corpus, dist), check=False).changed_files == [
        f"sources/{document.name}"
    ]
    assert_same_as_a_full_build(corpus, dist, tmp_path)


def _age(paths: list[Path], *, seconds: int) -> None:
    """Set back the files' modification times, as files saved a while before a build are."""
    for path in paths:
        status = path.stat()
        then = status.st_mtime_ns - seconds * 1_000_000_000
        os.utime(path, ns=(then, then))


def _rewrite_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    """Change a file in place, then give it its modification time back."""
    assert len(old.encode()) == len(new.encode())
    status = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert path.stat().st_size == status.st_size


def test_unchanged_files_are_known_by_their_size_and_time(corpus: Path, tmp_path: Path) -> None:
    """A build reads only the files whose size, modification time or inode differ from the
    manifest's record (10,000 files are 225 MB to hash), as git's index does; a file
    modified within RACY_NS of its record is read again, whatever its stat says."""
    dist = tmp_path / "dist"
    settings = settings_for(corpus, dist)
    cache = cache_root(settings.dist_dir, settings.cache_dir)
    files = sorted(corpus.rglob("*.trig"))
    _age(files, seconds=3600)
    fresh = sources(corpus)[1]
    # Saved as the build records it (here: a minute ahead, so however slow the machine, it is
    # within RACY_NS of the record): racy, never trusted by its stat.
    ahead = time.time_ns() + 60_000_000_000
    os.utime(fresh, ns=(ahead, ahead))
    again = build_dataset(settings)
    assert again.changed_files == []
    records = incremental.Manifest.read(incremental.incremental_dir(cache)).files
    trusted = [name for name, record in records.items() if record["stat"] is not None]
    assert f"sources/{fresh.name}" not in trusted and len(trusted) == len(files) - 1

    # Same size and time, new content: a trusted file is not read, so not seen...
    quiet = sources(corpus)[2]
    label = quiet.read_text(encoding="utf-8").split('rdfs:label "', 2)[2].split('"', 1)[0]
    assert label[::-1] != label
    _rewrite_keeping_size_and_mtime(quiet, f'"{label}"', f'"{label[::-1]}"')
    assert incremental.plan(settings, cache).changed == []
    # ... while the racy one is read, and its change found.
    _rewrite_keeping_size_and_mtime(fresh, "rdfs:label", "rdfs:LABEL")
    assert incremental.plan(settings, cache).changed == [f"sources/{fresh.name}"]
    # A save gives a file a new time: it is read, and its change found.
    quiet.touch()
    assert incremental.plan(settings, cache).changed == sorted(
        [f"sources/{fresh.name}", f"sources/{quiet.name}"]
    )


def test_a_dump_resumes_after_its_unchanged_pieces(corpus: Path, tmp_path: Path) -> None:
    """A dump assembled again starts as a copy of the previous one up to its first piece that
    is not the same file, its checksums resumed from there: the same bytes and checksums as
    a dump assembled from nothing, whichever piece changed."""
    dist = tmp_path / "dist"
    settings = settings_for(corpus, dist)
    directory = incremental.incremental_dir(cache_root(settings.dist_dir, settings.cache_dir))
    pieces = directory / incremental.Manifest.read(directory).pieces
    sums = dict(
        reversed(line.split("  ", 1)) for line in (dist / "SHA256SUMS").read_text().splitlines()
    )
    keys = dump_pieces.piece_keys(pieces)
    for changed in (None, keys[0], keys[len(keys) // 2], keys[-1]):
        if changed is not None:  # the same bytes in a new file: a piece rendered again
            path = pieces / f"{changed}.{dump_pieces.PIECE_FILE}"
            shutil.copyfile(path, path.with_suffix(".new"))
            os.replace(path.with_suffix(".new"), path)
        target = tmp_path / f"again-{changed}"
        target.mkdir()
        dumps = dump_pieces.assemble(
            pieces, target=target, base=BASE, left_out=set(), previous=pieces, previous_dumps=dist
        )
        for dump in dumps:
            assert (target / dump.name).read_bytes() == (dist / dump.name).read_bytes()
            assert dump.gz_sha256 == sums[dump.name], (changed, dump.name)
            plain = gzip.decompress((target / dump.name).read_bytes())
            assert dump.plain_sha256 == hashlib.sha256(plain).hexdigest()
            assert dump.plain_size == len(plain)
    # The prefix really is the previous dump's bytes (here made unreadable on purpose).
    fake = tmp_path / "fake"
    fake.mkdir()
    for fmt in formats.DUMP_FORMATS:
        name = formats.dump_name(fmt)
        (fake / name).write_bytes(b"\0" * (dist / name).stat().st_size)
    target = tmp_path / "from-fake"
    target.mkdir()
    dump_pieces.assemble(
        pieces, target=target, base=BASE, left_out=set(), previous=pieces, previous_dumps=fake
    )
    nquads = (target / formats.dump_name(formats.N_QUADS)).read_bytes()
    assert nquads.startswith(b"\0" * 64) and nquads != (dist / "dataset.nq.gz").read_bytes()


def test_unchanged_pieces_are_read_where_the_previous_build_left_them(
    corpus: Path, tmp_path: Path
) -> None:
    """An incremental build links the unchanged pieces into its own directory beside the
    rest of the build; meanwhile its dumps read them in the previous build's directory, and
    give the same bytes as from a whole directory. An unchanged piece's RDF/XML problem is
    found there too; a changed piece's old problem is not."""
    dist = tmp_path / "dist"
    settings = settings_for(corpus, dist)
    directory = incremental.incremental_dir(cache_root(settings.dist_dir, settings.cache_dir))
    previous = directory / incremental.Manifest.read(directory).pieces
    keys = dump_pieces.piece_keys(previous)
    changed, other = keys[len(keys) // 2], keys[0]
    new = tmp_path / "new-pieces"
    new.mkdir()
    shutil.copyfile(
        previous / f"{changed}.{dump_pieces.PIECE_FILE}",
        new / f"{changed}.{dump_pieces.PIECE_FILE}",
    )
    unchanged = frozenset(keys) - {changed}
    target = tmp_path / "dumps"
    target.mkdir()
    dumps = dump_pieces.assemble(
        new,
        target=target,
        base=BASE,
        left_out=set(),
        previous=previous,
        previous_dumps=dist,
        unchanged=unchanged,
    )
    assert {d.name for d in dumps} == {formats.dump_name(f) for f in formats.DUMP_FORMATS}
    for dump in dumps:
        assert (target / dump.name).read_bytes() == (dist / dump.name).read_bytes()
    assert sorted(p.name for p in new.iterdir() if p.name.endswith(".piece")) == [
        f"{changed}.piece"
    ]  # nothing read from the previous build was written here

    problem = dump_pieces.PROBLEM_FILE
    (previous / f"{other}.{problem}").write_text("<Xocalı> cannot be an XML name", "utf-8")
    (previous / f"{changed}.{problem}").write_text("the changed piece's old problem", "utf-8")
    assert dump_pieces.rdf_xml_problems(new, previous=previous, unchanged=unchanged) == [
        "<Xocalı> cannot be an XML name"
    ]
