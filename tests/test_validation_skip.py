"""Which shared nodes a source unit leaves to the shared unit (validation_units.skipped_focus),
which shapes may skip them (shacl_sparql.looks_outward), and that a skipped node's findings
still reach the report, from the shared unit.

The differential tests (test_validate_differential.py) compare whole reports with pySHACL;
these pin the rule itself on small graphs whose answer can be read off by hand."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from test_shapes import BASE, BROKEN, ROOT, SHARED_GRAPHS, copy_inputs, files_with_fixture

from publisher.dataset.load import load_dataset, load_shapes
from publisher.dataset.shacl_sparql import compile_shapes, looks_outward
from publisher.dataset.validate import validate_dataset
from publisher.dataset.validation_units import plan_units, skipped_focus

EX = "http://example.org/"


def n(name: str) -> ox.NamedNode:
    return ox.NamedNode(EX + name)


def t(s: str, p: str, o: str) -> ox.Triple:
    return ox.Triple(n(s), n(p), n(o))


def test_a_shared_node_reaching_nothing_of_the_document_is_skipped() -> None:
    context = [t("place", "type", "Place"), t("Place", "subClassOf", "Thing")]
    assert skipped_focus({n("event")}, context, set()) == {EX + "place", EX + "Place"}


def test_a_shared_node_the_document_describes_is_checked_here() -> None:
    # The document states something about the place: its checks see more than the shared
    # unit's, and so does the node pointing at it.
    context = [t("place", "type", "Place"), t("region", "contains", "place")]
    skipped = skipped_focus({n("event"), n("place")}, context, set())
    assert skipped == set()


def test_a_shared_node_reaching_an_owned_node_is_checked_here() -> None:
    # doc-record is some source's own provenance: not in the shared unit.
    context = [
        t("place", "citedBy", "doc-record"),
        t("doc-record", "issued", "day"),
        t("Place", "subClassOf", "Thing"),
    ]
    skipped = skipped_focus({n("event")}, context, {n("doc-record")})
    assert skipped == {EX + "Place"}


def test_blank_nodes_are_never_skipped() -> None:
    blank = ox.BlankNode("b1")
    context = [ox.Triple(blank, n("p"), n("place")), t("place", "type", "Place")]
    assert skipped_focus(set(), context, set()) == {EX + "place"}


SHAPES_TTL = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:Outward a sh:NodeShape ; sh:targetClass ex:Place ;
    sh:property [ sh:path ex:label ; sh:minCount 1 ; sh:message "m" ] ;
    sh:property [ sh:path ex:in ; sh:node ex:Nested ; sh:message "m" ] .
ex:Nested a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "m" ] .
ex:Inverse a sh:NodeShape ; sh:targetClass ex:Place ;
    sh:property [ sh:path ex:in ; sh:node ex:Backwards ; sh:message "m" ] .
ex:Backwards a sh:NodeShape ;
    sh:property [ sh:path [ sh:inversePath ex:at ] ; sh:minCount 1 ; sh:message "m" ] .
ex:Objects a sh:NodeShape ; sh:targetObjectsOf ex:at ;
    sh:property [ sh:path ex:label ; sh:minCount 1 ; sh:message "m" ] .
ex:Sparql a sh:NodeShape ; sh:targetClass ex:Place ; sh:message "m" ;
    sh:sparql [ sh:select "SELECT $this WHERE { ?x ?p $this }" ] .
"""


def test_only_shapes_that_look_outwards_skip() -> None:
    shapes = rdflib.Graph().parse(data=SHAPES_TTL, format="turtle")
    found = {
        name: looks_outward(shapes, rdflib.URIRef(EX + name))
        for name in ("Outward", "Inverse", "Objects", "Sparql")
    }
    assert found == {"Outward": True, "Inverse": False, "Objects": False, "Sparql": False}
    compiled = compile_shapes(shapes)
    skipping = [c for c in compiled.checks if c.skipping_query]
    # Outward's label check, its sh:node check and the nested shape's own check; the nested
    # one skips by the top-level focus (a variable of its own), not by the nested focus ?this.
    assert sorted(c.component.rsplit("#", 1)[-1] for c in skipping) == [
        "MinCountConstraintComponent",
        "MinCountConstraintComponent",
        "NodeConstraintComponent",
    ]
    nested = next(c for c in skipping if "?_p" in c.query)
    assert "GRAPH <urn:x-publisher:skip> { ?_p" in nested.skipping_query
    assert all(not c.skipping_query for c in compiled.checks if c not in skipping)


@pytest.mark.parametrize(
    "fixture",
    [
        "place-missing-english-label",  # a place the press release only points to
        "preflabel-two-english",
        "coordinates-latitude-as-string",  # reached through a place
        "label-without-language-tag",  # an organisation
    ],
)
def test_a_skipped_nodes_finding_is_reported_from_the_shared_unit(
    fixture: str, tmp_path: Path
) -> None:
    """A broken shared node the press release only points to: the press release's unit skips
    it, and the report still names it, as pySHACL (which checks every node everywhere) does."""
    root = copy_inputs(files_with_fixture(BROKEN / fixture), tmp_path)
    dataset = load_dataset(base=BASE, ontology_dir=root / "ontology", data_dir=root / "data")
    shapes = load_shapes(ROOT / "shapes", base=BASE)
    skipped = set().union(
        *(u.skip for u in plan_units(dataset, shared_graphs=list(SHARED_GRAPHS)).units)
    )
    reports = {
        engine: validate_dataset(
            dataset, shapes, shared_graphs=list(SHARED_GRAPHS), root=root, engine=engine
        )
        for engine in ("sparql", "pyshacl")
    }
    assert reports["sparql"].findings == reports["pyshacl"].findings
    about_skipped = [f for f in reports["sparql"].findings if f.focus.strip("<>") in skipped]
    assert about_skipped, f"{fixture}: no finding about a node a unit skips"


def test_the_seed_skips_the_shared_entities_and_classes_it_only_points_to() -> None:
    dataset = load_dataset(base=BASE, ontology_dir=ROOT / "ontology", data_dir=ROOT / "data")
    units = plan_units(dataset, shared_graphs=list(SHARED_GRAPHS)).units
    skipped = set().union(*(u.skip for u in units))
    assert BASE + "id/place/belgium" in skipped
    assert BASE + "def/Statement" in skipped  # an ontology class
    # The press release itself says things about Khojaly (the names it uses): checked there.
    assert BASE + "id/place/khojaly" not in skipped
    shapes = load_shapes(ROOT / "shapes", base=BASE)
    assert validate_dataset(dataset, shapes, shared_graphs=list(SHARED_GRAPHS)).conforms
