"""A full build's shortcuts give what the slow way gives: the VoID statistics summed from the
dump pieces are the store's own (void_statistics), the disk store bulk-extended from the
in-memory one holds the same quads, and the N-Triples/N-Quads dumps written from the pieces'
canonical lines parse to the store's statements."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest
from source_corpus import write_corpus

from publisher import formats
from publisher.dataset import dump_pieces, incremental
from publisher.dataset.pipeline import build_dataset
from publisher.dataset.void import void_statistics
from publisher.dist import STORE_DIR, cache_root
from publisher.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://full.example/"


def build(data: Path, dist: Path) -> ox.Store:
    settings = load_settings(
        {
            "base_uri": BASE,
            "data_dir": str(data),
            "ontology_dir": str(ROOT / "ontology"),
            "shapes_dir": "",
            "dist_dir": str(dist),
        },
        environ={},
    )
    build_dataset(settings, check=False, full=True)
    return ox.Store.read_only(str(dist / STORE_DIR))


def published_statistics(dist: Path):
    directory = incremental.incremental_dir(cache_root(dist, ""))
    manifest = incremental.Manifest.read(directory)
    assert manifest is not None
    return dump_pieces.load_statistics(directory / manifest.pieces)


def assert_dumps_hold_the_store(dist: Path, store: ox.Store) -> None:
    named = {q for q in store if not isinstance(q.graph_name, ox.DefaultGraph)}
    union = {q.triple for q in store if isinstance(q.graph_name, ox.DefaultGraph)}
    assert union == {q.triple for q in named}
    for fmt in (formats.N_TRIPLES, formats.N_QUADS):
        body = gzip.decompress((dist / formats.dump_name(fmt)).read_bytes())
        parsed = list(ox.parse(body, format=fmt.oxigraph))
        assert len(parsed) == len(set(parsed))  # one line per statement
        if fmt is formats.N_TRIPLES:
            assert {q.triple for q in parsed} == union
        else:
            assert set(parsed) == named | {ox.Quad(*t) for t in union}


def test_a_generated_corpus_publishes_the_stores_own_statistics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    write_corpus(tmp_path / "data", docs=6, seed=5)
    store = build(tmp_path / "data", tmp_path / "dist")
    published, pieces = published_statistics(tmp_path / "dist")
    expected = void_statistics(store, base=BASE)
    assert published == expected
    # ... summed from the pieces (not counted on the store again)
    assert dump_pieces.statistics_from_pieces(pieces, objects=expected.objects) == expected
    assert_dumps_hold_the_store(tmp_path / "dist", store)


def test_blank_node_graphs_and_literal_classes_are_counted_the_slow_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the summed statistics cannot name in SPARQL's order (a class that is a literal, a
    graph that is a blank node) is counted on the store, and still published exactly."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    data = tmp_path / "data"
    data.mkdir()
    (data / "odd.trig").write_text(
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        '<id/x> a "Xocalı" ; rdfs:label "Ходжалы"@ru .\n'
        '_:g { <id/y> a <def/Place> ; rdfs:label "Xocalı"@az, "x\\u0001y" . }\n'
        "<graph/other> { <id/x> a <def/Place> . _:b a <def/Thing> . }\n",
        encoding="utf-8",
    )
    store = build(data, tmp_path / "dist")
    published, pieces = published_statistics(tmp_path / "dist")
    assert published == void_statistics(store, base=BASE)
    assert dump_pieces.statistics_from_pieces(pieces, objects=0) is None
    assert_dumps_hold_the_store(tmp_path / "dist", store)


def test_named_pieces_hold_every_named_quad_once_and_a_documents_graph_whole(
    tmp_path: Path,
) -> None:
    """A full build's named pieces: a graph of one file (a source document) whole in its
    file's piece (its quads dumped by the worker that renders the piece), a graph several
    files write (the provenance) split by its subjects' homes; together, every named quad
    exactly once, each piece's lines sorted."""
    from publisher.dataset.load import load_dataset
    from publisher.dataset.publish import store_union

    data = tmp_path / "data"
    write_corpus(data, docs=6, seed=3)
    dataset = load_dataset(base=BASE, ontology_dir=ROOT / "ontology", data_dir=data)
    store_union(dataset.store)
    homes = dump_pieces.homes_from_dataset(dataset, data_dir=data)
    pieces = tmp_path / "pieces"
    dump_pieces.write_all(dataset.store, homes=homes, directory=pieces, base=BASE)

    texts = {
        key: dump_pieces.read_lines(pieces, key)
        for key in dump_pieces.piece_keys(pieces)
        if key.startswith("n")
    }
    lines = [line for text in texts.values() for line in text.split(b"\n") if line]
    named = [q for q in dataset.store if not isinstance(q.graph_name, ox.DefaultGraph)]
    assert len(lines) == len(named)
    assert set(ox.parse(b"\n".join(lines), format=ox.RdfFormat.N_QUADS)) == set(named)
    for text in texts.values():
        assert text.split(b"\n")[:-1] == sorted(set(text.split(b"\n")[:-1]))

    def pieces_of(graph: str) -> set[str]:
        token = f" <{graph}> .".encode()
        return {
            k for k, text in texts.items() for line in text.split(b"\n") if line.endswith(token)
        }

    document = next(g for g in homes.graph_home if "synthetic-source" in g)
    assert homes.graph_home[document] is not None
    assert pieces_of(document) == {dump_pieces.named_key(homes.graph_home[document], b"")}
    provenance = BASE + "graph/provenance"
    assert homes.graph_home[provenance] is None  # written by every document's file
    assert len(pieces_of(provenance)) > 1


def test_the_unions_lines_are_split_by_their_subjects_home_as_offsets() -> None:
    """split_by_home finds runs of lines about one subject (a subject may come back after
    another's lines; a blank node's label may be the start of another's), and every line of
    the text lands in exactly one piece, as the piece's sorted canonical text."""
    text = (
        '<http://x/id/xocali> <http://x/p> "Xocalı, 26 Feb" .\n'
        '<http://x/id/xocali> <http://x/q> "a\\nb" .\n'
        "_:a <http://x/p> _:ab .\n"
        '_:ab <http://x/p> "Ходжалы"@ru .\n'
        "_:ab <http://x/q> <http://x/id/xocali> .\n"
        '<http://x/id/xocali> <http://x/r> "again" .\n'
    ).encode()
    home_of = {b"<http://x/id/xocali>": "a.trig", b"_:a": "b.trig", b"_:ab": "a.trig"}
    spans = dump_pieces.split_by_home(text, home_of, fallback="", spread=frozenset())
    key_a = dump_pieces.default_key("a.trig", b"")
    key_b = dump_pieces.default_key("b.trig", b"")
    assert key_a != key_b
    lines = text.split(b"\n")[:-1]
    assert dump_pieces.lines_at(text, spans[key_a]) == dump_pieces.sorted_lines(
        [line for line in lines if not line.startswith(b"_:a ")]
    )
    assert dump_pieces.lines_at(text, spans[key_b]) == lines[2] + b"\n"
    assert sum(end - start for runs in spans.values() for start, end in runs) == len(text)
    with pytest.raises(ValueError, match="not N-Triples lines"):
        dump_pieces.split_by_home(text + b"<no-space>\n", home_of, fallback="", spread=frozenset())
