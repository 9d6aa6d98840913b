"""The fast path (shapes compiled to SPARQL on pyoxigraph) gives exactly pySHACL's results.

Compared on every broken fixture of tests/fixtures/broken (and the seed), and on a generated
corpus with one injected error of every kind: the same findings (file, focus node, path, value,
source shape, component, severity, message) and the same RDF results. One cache directory is
shared by the whole comparison, keyed by engine and content, so a document identical to one
already validated (most of the seed, in each fixture) is not validated again by either engine.

Also: validating each source document with only its minimal context finds exactly what
validating it with all shared graphs finds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib.compare import isomorphic

from publisher.dataset.load import load_dataset, load_shapes
from publisher.dataset.validate import (
    graph_groups,
    group_quads,
    validate_dataset,
    validate_units,
)
from publisher.dataset.validation_units import plan_units

sys.path.insert(0, str(Path(__file__).resolve().parent))
from source_corpus import INVALID_KINDS, write_corpus
from test_shapes import (
    BASE,
    ROOT,
    SHARED_GRAPHS,
    copy_inputs,
    files_with_fixture,
    fixture_dirs,
    seed_files,
)


def _load(root: Path, data_dir: Path | None = None):
    ontology = root / "ontology" if (root / "ontology").is_dir() else ROOT / "ontology"
    dataset = load_dataset(base=BASE, ontology_dir=ontology, data_dir=data_dir or root / "data")
    return dataset, load_shapes(ROOT / "shapes", base=BASE)


def _both(dataset, shapes, root: Path, cache: Path):
    reports = [
        validate_dataset(
            dataset,
            shapes,
            shared_graphs=list(SHARED_GRAPHS),
            root=root,
            engine=engine,
            cache_dir=cache,
        )
        for engine in ("sparql", "pyshacl")
    ]
    return reports


def _differences(fast, reference) -> str:
    only_fast = sorted(set(fast.findings) - set(reference.findings))
    only_ref = sorted(set(reference.findings) - set(fast.findings))
    return "\n".join(
        [f"sparql only: {f}" for f in only_fast] + [f"pyshacl only: {f}" for f in only_ref]
    )


def test_sparql_engine_equals_pyshacl_on_the_seed_and_every_broken_fixture(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    cases = [("seed", seed_files()), *((f.name, files_with_fixture(f)) for f in fixture_dirs())]
    assert len(cases) > 30
    for name, files in cases:
        root = copy_inputs(files, tmp_path / name)
        dataset, shapes = _load(root)
        fast, reference = _both(dataset, shapes, root, cache)
        assert fast.findings == reference.findings, f"{name}:\n{_differences(fast, reference)}"
        assert isomorphic(fast.results_graph, reference.results_graph), name
        assert fast.conforms == reference.conforms == (name == "seed"), name
        assert fast.text() == reference.text()


def test_sparql_engine_equals_pyshacl_on_a_corpus_with_every_injected_error(
    tmp_path: Path,
) -> None:
    summary = write_corpus(
        tmp_path / "data", docs=len(INVALID_KINDS), seed=3, invalid=len(INVALID_KINDS)
    )
    assert sorted(summary.invalid.values()) == sorted(INVALID_KINDS)
    dataset, shapes = _load(tmp_path, tmp_path / "data")
    fast, reference = _both(dataset, shapes, tmp_path / "data", tmp_path / "cache")
    assert fast.findings == reference.findings, _differences(fast, reference)
    assert isomorphic(fast.results_graph, reference.results_graph)
    # Every injected document is named in the report, and no other document is.
    named = {file for finding in fast.findings for file in finding.files}
    assert named == set(summary.invalid), (named, summary.invalid)


@pytest.mark.parametrize(
    "fixture",
    [
        f
        for f in fixture_dirs()
        if f.name
        in {
            "source-document-without-publisher",
            "curated-graph-without-sources",
            "ontology-term-without-comment",
            "place-contained-in-literal",
        }
    ],
    ids=lambda p: p.name,
)
def test_the_minimal_context_finds_what_all_shared_graphs_find(
    fixture: Path, tmp_path: Path
) -> None:
    """Each source graph with ALL shared graphs (the old gate) vs with its minimal context."""
    root = copy_inputs(files_with_fixture(fixture), tmp_path)
    dataset, shapes = _load(root)
    groups = graph_groups(dataset, shared_graphs=list(SHARED_GRAPHS))
    everything = [
        (
            str(i),
            ox.serialize(
                [ox.Triple(q.subject, q.predicate, q.object) for q in group_quads(dataset, g)],
                format=ox.RdfFormat.N_TRIPLES,
            ),
        )
        for i, g in enumerate(groups)
    ]
    minimal = [
        (str(i), ox.serialize(u.triples, format=ox.RdfFormat.N_TRIPLES))
        for i, u in enumerate(plan_units(dataset, shared_graphs=list(SHARED_GRAPHS)).units)
    ]

    def results(units):
        found = validate_units(units, shapes, engine="sparql")
        return {
            (
                r.focus_text,
                r.path_text,
                r.value_text,
                r.shape_text,
                r.component,
                r.severity,
                r.message,
            )
            for raw in found.values()
            for r in raw
        }

    assert results(minimal) == results(everything) != set()
