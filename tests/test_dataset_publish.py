"""publisher.dataset.publish and load on a tiny dataset: the parallel writer's output is
standard, deterministic gzip; the store holds the same quads as the N-Quads dump; loading
notes every file a graph came from without a Python loop per quad."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest
from support import build_data_only

from publisher import formats
from publisher.dataset.load import load_dataset
from publisher.dist import STORE_DIR, SUMS_FILE

BASE = "http://example.org/kg/"
# graph/provenance is written by both source files; the default graph of b.trig goes to graph/b.
A = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<graph/a> { <id/place/xocali> a <def/Place> ; rdfs:label "Xocalı"@az , "Ходжалы"@ru . }
<graph/provenance> { <graph/a> <http://www.w3.org/ns/prov#wasDerivedFrom> <id/document/a> . }
"""
B = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<id/place/xocali> a <def/Place> ; rdfs:label "Xocalı"@az .
<graph/provenance> { <graph/b> <http://www.w3.org/ns/prov#wasDerivedFrom> <id/document/b> . }
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    (directory / "a.trig").write_text(A, encoding="utf-8")
    (directory / "b.trig").write_text(B, encoding="utf-8")
    return directory


def test_every_file_of_a_graph_is_noted_and_default_graphs_get_the_file_graph(data: Path) -> None:
    dataset = load_dataset(base=BASE, ontology_dir=None, data_dir=data)
    files = {g: sorted(p.name for p in paths) for g, paths in dataset.graph_files.items()}
    assert files == {
        BASE + "graph/a": ["a.trig"],
        BASE + "graph/b": ["b.trig"],
        BASE + "graph/provenance": ["a.trig", "b.trig"],
    }
    assert dataset.graph_names() == sorted(files)
    assert not list(dataset.store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    assert [p.name for p in dataset.files_for(BASE + "id/place/xocali")] == ["a.trig", "b.trig"]


def test_two_builds_write_the_same_standard_gzip_bytes(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build_data_only(tmp_path / "one", base=BASE, data_dir=data)
    second = build_data_only(tmp_path / "two", base=BASE, data_dir=data)

    def dump_sums(dist: Path) -> list[str]:
        # void.ttl names its partitions with fresh blank nodes: the dumps are the content.
        return [line for line in (dist / SUMS_FILE).read_text().splitlines() if ".gz" in line]

    assert dump_sums(first) == dump_sums(second)
    assert len(dump_sums(first)) == len(formats.DUMP_FORMATS)
    for fmt in formats.DUMP_FORMATS:
        name = formats.dump_name(fmt)
        body = gzip.decompress((first / name).read_bytes())  # the standard library reads it
        assert "Xocalı".encode() in body or b"Xocal\\u0131" in body, name
        assert (first / name).read_bytes()[4:8] == b"\0\0\0\0"  # mtime 0


def test_the_store_holds_the_quads_of_the_nquads_dump_with_the_union_as_a_set(
    data: Path, tmp_path: Path
) -> None:
    dist = build_data_only(tmp_path / "dist", base=BASE, data_dir=data)
    dumped = set(
        ox.parse(
            gzip.decompress((dist / "dataset.nq.gz").read_bytes()), format=ox.RdfFormat.N_QUADS
        )
    )
    store = ox.Store.read_only(str(dist / STORE_DIR))
    assert set(store) == dumped
    union = list(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    # "xocali a Place" and its az label are stated by both graph/a and graph/b: once each.
    assert len(union) == len(set(union)) == 5


def test_dist_writers_run_with_short_gil_switches_and_the_setting_comes_back(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While dist/'s writers run side by side the GIL changes hands every half millisecond
    (a pieces worker back from Rust waits less for a thread looping in Python); the
    process's own interval is restored after the build, and after a failing one."""
    import sys

    from publisher.dataset import publish
    from publisher.errors import BuildError

    seen: list[float] = []
    real = publish.write_search_index

    def noting(*args, **kwargs):
        seen.append(sys.getswitchinterval())
        return real(*args, **kwargs)

    monkeypatch.setattr(publish, "write_search_index", noting)
    before = sys.getswitchinterval()
    build_data_only(tmp_path / "dist", base=BASE, data_dir=data)
    assert seen == [publish.DIST_SWITCH_INTERVAL] and before != publish.DIST_SWITCH_INTERVAL
    assert sys.getswitchinterval() == before

    def failing(*args, **kwargs):
        raise BuildError("search index: disk full")

    monkeypatch.setattr(publish, "write_search_index", failing)
    with pytest.raises(BuildError, match="disk full"):
        build_data_only(tmp_path / "dist2", base=BASE, data_dir=data)
    assert sys.getswitchinterval() == before
