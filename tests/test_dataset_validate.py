"""publisher.dataset.validate: one SHACL run per source graph, and a report a curator can act on."""

from __future__ import annotations

from pathlib import Path

from publisher.dataset.load import load_dataset, load_shapes
from publisher.dataset.validate import graph_groups, validate_dataset

BASE = "http://example.org/kg/"
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
