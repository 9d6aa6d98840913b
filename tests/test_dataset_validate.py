"""publisher.dataset.validate: one SHACL run per source graph, and a report a curator can act on."""

from __future__ import annotations

import re
from pathlib import Path

from publisher.dataset.load import load_dataset, load_shapes
from publisher.dataset.validate import graph_groups, validate_dataset

BASE = "http://example.org/kg/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<shapes#Place> a sh:NodeShape ;
    sh:targetClass <def/Place> ;
    sh:property [ sh:path rdfs:label ; sh:minCount 1 ; sh:message "A place needs a label." ] .
"""


def project(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"shapes/places.ttl": SHAPES, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def validate(root: Path, shared: list[str]):
    dataset = load_dataset(base=BASE, ontology_dir=None, data_dir=root / "data")
    shapes = load_shapes(root / "shapes", base=BASE)
    return dataset, validate_dataset(dataset, shapes, shared_graphs=shared, root=root)


LABELLED = '<id/place/a> a <def/Place> ; <http://www.w3.org/2000/01/rdf-schema#label> "A" .\n'


def test_each_source_graph_is_validated_with_the_shared_graphs(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "data/curated.trig": "<graph/curated> { <id/place/a> a <def/Place> . }\n",
            "data/one.ttl": LABELLED,
            "data/two.ttl": LABELLED,
        },
    )
    dataset, report = validate(root, ["graph/curated"])
    assert graph_groups(dataset, shared_graphs=["graph/curated"]) == [
        [BASE + "graph/curated", BASE + "graph/one"],
        [BASE + "graph/curated", BASE + "graph/two"],
    ]
    # The curated type alone would break the shape; with each source's label it conforms.
    assert report.conforms and report.findings == []
    assert report.groups_validated == 2
    assert report.text() == "Conforms: all 2 graph group(s) satisfy the shapes."


def test_without_shared_graphs_there_is_one_group_per_graph(tmp_path: Path) -> None:
    root = project(tmp_path, {"data/one.ttl": LABELLED, "data/two.ttl": LABELLED})
    dataset, report = validate(root, [])
    assert graph_groups(dataset, shared_graphs=[]) == [[BASE + "graph/one"], [BASE + "graph/two"]]
    assert report.conforms and report.groups_validated == 2


def test_a_finding_names_the_file_focus_path_and_the_shape_that_holds_the_property(
    tmp_path: Path,
) -> None:
    root = project(
        tmp_path,
        {"data/good.ttl": LABELLED, "data/bad.ttl": "<id/place/b> a <def/Place> .\n"},
    )
    _dataset, report = validate(root, [])
    assert not report.conforms
    [finding] = report.findings
    assert finding.files == ("data/bad.ttl",)  # relative to the root given
    assert finding.focus == f"<{BASE}id/place/b>"
    assert finding.path == "<http://www.w3.org/2000/01/rdf-schema#label>"
    assert finding.severity == "Violation"
    assert finding.message == "A place needs a label."
    # The property shape is a blank node: it is named by its node shape and path.
    assert finding.shape == (
        f"<{BASE}shapes#Place>, property <http://www.w3.org/2000/01/rdf-schema#label>"
    )
    assert finding.component == "sh:MinCountConstraintComponent"

    text = report.text()
    assert text.startswith("Validation failed: 1 result(s) in 1 file(s).")
    assert "In data/bad.ttl:\n  Violation: A place needs a label." in text
    assert f"    focus node: <{BASE}id/place/b>" in text
    assert "<http://www.w3.org/ns/shacl#ValidationReport>" not in report.turtle()  # prefixed
    assert "sh:ValidationReport" in report.turtle()


def test_a_blank_node_focus_points_at_the_source_file_of_its_group(tmp_path: Path) -> None:
    """A blank node has no file of its own: the finding names the group's source file."""
    root = project(
        tmp_path,
        {
            "data/curated.trig": "<graph/curated> { <id/place/c> a <def/Place> ; "
            '<http://www.w3.org/2000/01/rdf-schema#label> "C" . }\n',
            "data/source.ttl": "[] a <def/Place> .\n",
        },
    )
    _dataset, report = validate(root, ["graph/curated"])
    assert not report.conforms
    [finding] = report.findings
    assert finding.files == ("data/source.ttl",)
    assert finding.focus == "[] (a blank node)"


# -- incremental validation: the cache ---------------------------------------------------------

CORPUS_BASE = "http://127.0.0.1:8080/"
REPO = Path(__file__).resolve().parent.parent


def corpus_project(root: Path, *, docs: int, invalid: int = 0) -> Path:
    import shutil
    import sys

    sys.path.insert(0, str(REPO / "tests"))
    from source_corpus import write_corpus

    write_corpus(root / "data", docs=docs, seed=2, invalid=invalid)
    shutil.copytree(REPO / "shapes", root / "shapes")
    return root


def validate_corpus(root: Path, *, workers: int = 1, progress=None):
    dataset = load_dataset(base=CORPUS_BASE, ontology_dir=REPO / "ontology", data_dir=root / "data")
    shapes = load_shapes(root / "shapes", base=CORPUS_BASE)
    return validate_dataset(
        dataset,
        shapes,
        shared_graphs=["graph/ontology", "graph/curated", "graph/provenance"],
        root=root,
        cache_dir=root / "cache",
        workers=workers,
        progress=progress,
    )


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


def test_only_what_changed_is_validated_again(tmp_path: Path) -> None:
    docs = 4
    root = corpus_project(tmp_path, docs=docs)
    sources = sorted((root / "data" / "sources").glob("*.trig"))
    assert len(sources) == docs
    units = docs + 1  # every source document, and the shared data nobody owns

    done: list[int] = []
    first = validate_corpus(root, progress=done.append)
    assert first.conforms, first.text()
    assert (first.validated, first.from_cache) == (units, 0)
    assert sum(done) == units
    again = validate_corpus(root)
    assert (again.validated, again.from_cache) == (0, units)

    # Edit one document (its own graph, and its provenance): that document only.
    source = sources[1]
    graph = re.search(r"^<(graph/[^>]+)> \{", source.read_text(encoding="utf-8"), re.M).group(1)
    append(source, f'\n<{graph}> {{ <id/note/xocali> <{RDFS}comment> "Xocalı"@az . }}\n')
    append(source, f'\n<graph/provenance> {{ <{graph}> <{RDFS}comment> "Ходжалы"@ru . }}\n')
    edited = validate_corpus(root)
    assert (edited.validated, edited.from_cache) == (1, units - 1)
    assert edited.conforms

    # Change a shared entity: the documents that refer to it (and the shared data itself).
    curated = root / "data" / "curated.trig"
    curated_text = curated.read_text(encoding="utf-8")
    texts = [s.read_text(encoding="utf-8") for s in sources]
    candidates = sorted(
        (sum(iri in t for t in texts), iri)
        for iri in re.findall(r"^\s*(<id/organisation/[^>]+>) a ", curated_text, re.M)
        if curated_text.count(iri) == 1  # no other shared entity points at it
    )
    referring, entity = next(c for c in candidates if c[0] > 0)
    append(curated, f'\n<graph/curated> {{ {entity} <{RDFS}comment> "Xocalı"@en . }}\n')
    shared_edit = validate_corpus(root)
    assert shared_edit.validated == referring + 1
    assert shared_edit.from_cache == units - referring - 1
    # An entity no document refers to: the shared data only.
    _none, lonely = candidates[0]
    assert _none == 0
    append(curated, f'\n<graph/curated> {{ {lonely} <{RDFS}comment> "Ходжалы"@ru . }}\n')
    assert validate_corpus(root).validated == 1

    # Change the shapes: everything.
    shape_file = root / "shapes" / "entities.ttl"
    shape_file.write_text(
        shape_file.read_text(encoding="utf-8").replace("described place", "described place!"),
        encoding="utf-8",
    )
    reshaped = validate_corpus(root)
    assert (reshaped.validated, reshaped.from_cache) == (units, 0)


def test_a_cached_failure_is_still_a_failure(tmp_path: Path, monkeypatch) -> None:
    import publisher.dataset.validate as validate_module

    root = corpus_project(tmp_path, docs=3, invalid=1)
    monkeypatch.setattr(validate_module, "_MIN_PARALLEL", 0)  # use the process pool even here
    done: list[int] = []
    first = validate_corpus(root, workers=2, progress=done.append)
    assert not first.conforms and first.validated == 4 and sum(done) == 4
    monkeypatch.undo()
    second = validate_corpus(root)
    assert (second.validated, second.from_cache) == (0, 4)
    assert not second.conforms
    assert second.findings == first.findings
    assert second.text() == first.text()
    # A damaged cache entry is validated again, not trusted.
    for entry in (root / "cache" / "validation").rglob("*.json"):
        entry.write_text("{not json", encoding="utf-8")
    third = validate_corpus(root)
    assert (third.validated, third.from_cache) == (4, 0)
    assert third.findings == first.findings


def test_the_validate_command_says_how_many_documents_it_validated(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    for name in ("ontology", "data", "shapes"):
        shutil.copytree(REPO / name, tmp_path / name)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "publisher", "validate", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        )

    first = run()
    assert first.returncode == 0, first.stderr
    assert first.stdout.rstrip().endswith(
        "2 document(s) validated, 0 from the cache (engine sparql)."
    )
    assert (tmp_path / "dist.cache" / "validation").is_dir()  # cache_dir: beside dist/
    again = run("--format", "turtle")
    assert again.returncode == 0
    assert "# 0 document(s) validated, 2 from the cache (engine sparql)." in again.stdout
    import rdflib

    rdflib.Graph().parse(data=again.stdout, format="turtle")  # the count is a comment


def test_a_shape_the_compiler_does_not_translate_is_validated_by_pyshacl(tmp_path: Path) -> None:
    """sh:minLength is not compiled: its shape falls back to pySHACL, never silently dropped."""
    import rdflib

    from publisher.dataset.shacl_sparql import compile_shapes

    shapes_text = SHAPES + (
        "<shapes#Named> a sh:NodeShape ; sh:targetClass <def/Place> ;\n"
        '    sh:property [ sh:path rdfs:label ; sh:minLength 3 ; sh:message "Too short." ] .\n'
    )
    root = project(
        tmp_path,
        {
            "shapes/places.ttl": shapes_text,
            "data/one.ttl": '<id/place/x> a <def/Place> ; <http://www.w3.org/2000/01/rdf-schema#label> "Xı" .\n'
            "<id/place/y> a <def/Place> .\n",
        },
    )
    shapes_graph = rdflib.Graph().parse(data=shapes_text, format="turtle", publicID=BASE)
    assert compile_shapes(shapes_graph).fallback == [rdflib.URIRef(BASE + "shapes#Named")]
    dataset = load_dataset(base=BASE, ontology_dir=None, data_dir=root / "data")
    shapes = load_shapes(root / "shapes", base=BASE)
    reports = [
        validate_dataset(dataset, shapes, shared_graphs=[], root=root, engine=engine)
        for engine in ("sparql", "pyshacl")
    ]
    assert reports[0].findings == reports[1].findings
    messages = sorted(f.message for f in reports[0].findings)
    assert messages == ["A place needs a label.", "Too short."]


def test_compiled_shapes_are_kept_in_the_validation_cache(tmp_path: Path) -> None:
    """The project's shapes compiled once, then read back with the graph whose blank nodes
    the checks name; a damaged file is compiled again, other shapes get a file of their own;
    the report is the same from the cache."""
    import pyoxigraph as ox
    from rdflib import BNode
    from rdflib.compare import isomorphic

    from publisher.dataset.validate import _WORKER, _compiled_shapes

    repo = Path(__file__).resolve().parent.parent
    shapes_nt = ox.serialize(load_shapes(repo / "shapes", base=BASE), format=ox.RdfFormat.N_TRIPLES)
    cache = tmp_path / "validation"
    shapes, compiled = _compiled_shapes(shapes_nt, cache)
    [kept] = cache.glob("compiled-*.pickle")
    again_shapes, again = _compiled_shapes(shapes_nt, cache)
    assert again.checks == compiled.checks and again.fallback == compiled.fallback
    assert isomorphic(again_shapes, shapes)
    blank = {f"_:{node}" for node in again_shapes.all_nodes() if isinstance(node, BNode)}
    named = [c.shape for c in again.checks if c.shape.startswith("_:")]
    assert named and set(named) <= blank  # the kept graph's own blank nodes

    kept.write_bytes(b"not a pickle")
    _, damaged = _compiled_shapes(shapes_nt, cache)
    assert len(damaged.checks) == len(compiled.checks)
    assert _compiled_shapes(shapes_nt, cache)[1].checks == damaged.checks  # written again
    _compiled_shapes(shapes_nt.replace(b"minCount", b"maxCount", 1), cache)
    assert len(list(cache.glob("compiled-*.pickle"))) == 2

    root = project(tmp_path / "p", {"data/places.ttl": LABELLED + "<id/place/b> a <def/Place> .\n"})
    dataset = load_dataset(base=BASE, ontology_dir=None, data_dir=root / "data")
    place_shapes = load_shapes(root / "shapes", base=BASE)
    cold = validate_dataset(dataset, place_shapes, shared_graphs=[], root=root)
    for _ in range(2):  # compiled, then from the cache
        _WORKER.clear()  # as in a new process (this one keeps what it compiled)
        cached = validate_dataset(
            dataset, place_shapes, shared_graphs=[], root=root, cache_dir=tmp_path / "c"
        )
        assert cached.text() == cold.text() and not cached.conforms
        for path in (tmp_path / "c" / "validation").iterdir():
            if not path.name.startswith("compiled-"):
                path.unlink()  # the results go, the compiled shapes stay: validated again
    assert len(list((tmp_path / "c" / "validation").glob("compiled-*.pickle"))) == 1
