"""The page-type registry (publisher/web/page_types.py): routes, IRI mapping, exists, describe."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from publisher import formats
from publisher.web.errors import BadRequest, NotFound
from publisher.web.page_types import (
    DATASET,
    GRAPH,
    ONTOLOGY,
    PAGE_TYPES,
    SHAPES,
    TERM,
    THING,
    PageType,
)
from publisher.web.state import served_build

BASE = "http://example.org/"
# One document of the seed dataset per page type (path, raw rest after the route).
EXAMPLES: dict[PageType, tuple[str, str]] = {
    THING: ("/doc/event/khojaly-massacre", "event/khojaly-massacre"),
    TERM: ("/def/Claim", "Claim"),
    ONTOLOGY: ("/def/", ""),
    GRAPH: ("/graph/curated", "curated"),
    DATASET: ("/dataset", ""),
    SHAPES: ("/shapes", ""),
}


def test_every_page_type_has_an_example() -> None:
    assert set(EXAMPLES) == set(PAGE_TYPES)
    assert len({p.name for p in PAGE_TYPES}) == len(PAGE_TYPES)


@pytest.mark.parametrize("page", PAGE_TYPES, ids=lambda p: p.name)
def test_every_rule_of_a_page_type_is_routed_to_it(app, page: PageType) -> None:
    routed = {r.rule for r in app.url_map.iter_rules() if r.endpoint == f"resources.{page.name}"}
    assert routed == set(page.iris.rules)


def test_a_path_below_a_prefix_names_an_iri_below_the_base() -> None:
    target = THING.resolve(base=BASE, raw="event/x.ttl")
    assert (target.page, target.iri, target.document) == (
        THING,
        BASE + "id/event/x",
        "/doc/event/x",
    )
    assert target.explicit is formats.TURTLE
    assert target.variant(formats.HTML) == "/doc/event/x.html"
    assert GRAPH.resolve(base=BASE, raw="g").iri == BASE + "graph/g"
    assert TERM.resolve(base=BASE, raw="Attack.nt").iri == BASE + "def/Attack"
    # Every spelling of a percent-encoded name is looked up, the one sent first.
    spelled = THING.resolve(base=BASE, raw="place/a%20b").candidates
    assert spelled[0] == BASE + "id/place/a%20b"
    assert BASE + "id/place/a b" not in spelled  # a space cannot be part of an IRI


def test_an_unknown_suffix_stays_part_of_the_name() -> None:
    target = THING.resolve(base=BASE, raw="event/x.v2")
    assert (target.iri, target.explicit) == (BASE + "id/event/x.v2", None)


@pytest.mark.parametrize("raw", ["", "a//b", "a/../b", "a/%FF"])
def test_a_malformed_path_is_a_bad_request(raw: str) -> None:
    with pytest.raises(BadRequest):
        THING.resolve(base=BASE, raw=raw)


def test_a_named_document_has_one_iri_and_variants_by_extension() -> None:
    dataset = DATASET.resolve(base=BASE, raw="ttl")
    assert (dataset.iri, dataset.explicit) == (BASE + "dataset", formats.TURTLE)
    assert dataset.variant(formats.JSON_LD) == "/dataset.jsonld"
    ontology = ONTOLOGY.resolve(base=BASE, raw="")
    assert (ontology.iri, ontology.document, ontology.explicit) == (BASE + "def/", "/def/", None)
    assert ontology.variant(formats.TURTLE) == "/def.ttl"
    with pytest.raises(NotFound):
        SHAPES.resolve(base=BASE, raw="exe")


@pytest.mark.parametrize("page", PAGE_TYPES, ids=lambda p: p.name)
def test_exists_and_describe_on_the_seed(app, page: PageType) -> None:
    with app.test_request_context():
        state = served_build()
        target = page.resolve(base=state.base, raw=EXAMPLES[page][1])
        iri = page.exists(target, state)
        assert iri == target.iri
        document = page.describe(target, iri, state)
        assert document.quads
        assert document.subjects[0] == ox.NamedNode(iri)


@pytest.mark.parametrize("page", [THING, TERM, GRAPH], ids=lambda p: p.name)
def test_a_name_the_dataset_lacks_does_not_exist(app, page: PageType) -> None:
    with app.test_request_context():
        state = served_build()
        assert page.exists(page.resolve(base=state.base, raw="no-such-name"), state) is None


@pytest.mark.parametrize("page", PAGE_TYPES, ids=lambda p: p.name)
def test_the_html_page_says_what_it_shows(client, page: PageType) -> None:
    path = EXAMPLES[page][0]
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert f'<p class="kind">{page.label}</p>' in response.data.decode("utf-8")
