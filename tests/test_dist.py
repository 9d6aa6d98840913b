"""publisher.dist: the layout of dist/ that the builder writes and serving reads."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from publisher import dist
from publisher.dist import BuildInfo


def test_build_info_round_trips_through_its_file(tmp_path: Path) -> None:
    info = BuildInfo(
        build_id="0123456789abcdef-65",
        built_at="2023-11-14T22:13:20Z",
        base="http://example.org/",
        quads=10,
        triples=9,
        graphs=2,
    )
    info.write(tmp_path)
    assert (tmp_path / dist.BUILD_INFO).read_text(encoding="utf-8").endswith("}\n")
    assert BuildInfo.read(tmp_path) == info


def test_every_name_of_the_layout_is_in_a_built_dist(seed_dist: Path) -> None:
    names = {
        dist.STORE_DIR,
        dist.BUILD_INFO,
        dist.CONTEXT_FILE,
        dist.VOID_FILE,
        dist.SHAPES_FILE,
        dist.ONTOLOGY_FILE,
        dist.SUMS_FILE,
        dist.CQ_DIR,
    }
    assert len(names) == 8, "two layout names spell the same file"
    assert names <= {p.name for p in seed_dist.iterdir()}
    assert (seed_dist / dist.STORE_DIR).is_dir() and (seed_dist / dist.CQ_DIR).is_dir()


def test_the_build_info_of_a_built_dist_counts_what_its_store_holds(
    seed_dist: Path, seed_base: str
) -> None:
    info = BuildInfo.read(seed_dist)
    store = ox.Store.read_only(str(seed_dist / dist.STORE_DIR))
    named = [q for q in store if not isinstance(q.graph_name, ox.DefaultGraph)]
    union = list(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    assert info.base == seed_base
    assert (info.quads, info.triples) == (len(named), len(union))
    assert info.graphs == len(list(store.named_graphs()))
    assert info.built_at.endswith("Z") and info.build_id.split("-")[0].isalnum()
