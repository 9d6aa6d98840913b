"""/fragments (publisher/web/fragments.py): Triple and Quad Pattern Fragments over the seed.

Every RDF format of the table is read back by rdflib; the pages of a fragment, followed by
their hydra:next links, give exactly the store's matches; bad parameters are 400 naming the
parameter; pages are immutable per build (ETag, 304, gzip).
"""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
import rdflib
from html_checks import check_html
from rdf_checks import DEFAULT_GRAPH, parse

from publisher import formats
from publisher.dist import STORE_DIR
from publisher.web.fragments import default_graph_iri

HYDRA = "http://www.w3.org/ns/hydra/core#"
VOID = "http://rdfs.org/ns/void#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PLACE = "id/place/khojaly"


@pytest.fixture(scope="module")
def store(seed_dist: Path) -> ox.Store:
    return ox.Store.read_only(str(seed_dist / STORE_DIR))


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fetch(client, url: str, fmt: formats.Format = formats.N_QUADS):
    response = client.get(local(url), headers={"Accept": fmt.media_type})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def metadata_value(dataset: rdflib.Dataset, page: str, predicate: str):
    values = {
        o
        for s, p, o, _g in dataset.quads(
            (rdflib.URIRef(page), rdflib.URIRef(predicate), None, None)
        )
    }
    return values.pop() if len(values) == 1 else None


def data_quads(dataset: rdflib.Dataset, page: str) -> set[tuple]:
    """The quads outside the page's metadata graph."""
    metadata_graph = page + "#metadata"
    return {
        (s, p, o, str(g))
        for s, p, o, g in dataset.quads((None, None, None, None))
        if str(g) != metadata_graph
    }


def walk(client, first: str) -> tuple[list[tuple], int]:
    """Follow hydra:next from `first`; every data quad of every page, and the stated count."""
    found: list[tuple] = []
    url, total, pages = first, None, 0
    while url is not None:
        pages += 1
        assert pages < 100, "paging does not end"
        dataset = parse(fetch(client, url).data, "nquads", base=url)
        found.extend(data_quads(dataset, url))
        count = metadata_value(dataset, url, HYDRA + "totalItems")
        total = int(count) if total is None else total
        following = metadata_value(dataset, url, HYDRA + "next")
        url = str(following) if following is not None else None
    return found, total


def store_quads(store: ox.Store, *, predicate=None, obj=None, graph=None) -> set[tuple]:
    """The store's matches, read by the same parser as the pages (rdflib, from N-Quads)."""
    quads = list(store.quads_for_pattern(None, predicate, obj, graph))
    dataset = rdflib.Dataset()
    dataset.parse(data=ox.serialize(quads, format=ox.RdfFormat.N_QUADS), format="nquads")
    return {(s, p, o, str(g)) for s, p, o, g in dataset.quads((None, None, None, None))}


@pytest.mark.parametrize("fmt", formats.RDF_FORMATS, ids=lambda f: f.name)
def test_every_rdf_format_parses_and_carries_the_controls(client, seed_base: str, fmt) -> None:
    url = f"{seed_base}fragments?predicate={RDFS_LABEL.replace('#', '%23')}"
    response = fetch(client, url, fmt)
    assert response.headers["Content-Type"].startswith(fmt.media_type)
    dataset = parse(response.data, fmt.name, base=url)
    assert int(metadata_value(dataset, url, HYDRA + "totalItems")) > 0
    assert int(metadata_value(dataset, url, VOID + "triples")) > 0
    templates = {
        str(o)
        for _s, _p, o, _g in dataset.quads((None, rdflib.URIRef(HYDRA + "template"), None, None))
    }
    assert templates == {f"{seed_base}fragments{{?subject,predicate,object,graph}}"}
    variables = {
        str(o)
        for _s, _p, o, _g in dataset.quads((None, rdflib.URIRef(HYDRA + "variable"), None, None))
    }
    assert variables == {"subject", "predicate", "object", "graph"}
    labels = {o for _s, p, o, _g in dataset.quads((None, rdflib.URIRef(RDFS_LABEL), None, None))}
    assert rdflib.Literal("Xocalı", lang="az") in labels
    assert rdflib.Literal("Ходжалы", lang="ru") in labels
    if fmt.supports_datasets and fmt is not formats.JSON_LD:
        # The metadata sits in a graph of its own, which names the page as its topic.
        assert (url + "#metadata") in {
            str(g) for *_spo, g in dataset.quads((None, None, None, None))
        }


@pytest.mark.parametrize(
    ("query", "pattern"),
    [
        ("", {}),
        (f"predicate={RDF_TYPE.replace('#', '%23')}", {"predicate": ox.NamedNode(RDF_TYPE)}),
        (
            f"predicate={RDFS_LABEL.replace('#', '%23')}&object=%22Xocal%C4%B1%22%40az",
            {"predicate": ox.NamedNode(RDFS_LABEL), "obj": ox.Literal("Xocalı", language="az")},
        ),
    ],
    ids=["everything", "types", "non-ascii-object"],
)
def test_pages_followed_by_next_give_exactly_the_matches(
    client, store, seed_base: str, query: str, pattern: dict
) -> None:
    first = f"{seed_base}fragments" + (f"?{query}" if query else "")
    found, total = walk(client, first)
    expected = store_quads(store, **pattern)
    assert len(found) == total == len(expected)
    assert set(found) == expected


def test_default_graph_is_the_union_as_a_set(client, store, seed_base: str) -> None:
    graph = default_graph_iri(seed_base)
    first = f"{seed_base}fragments?graph={graph.replace('#', '%23')}"
    found, total = walk(client, first)
    expected = store_quads(store, graph=ox.DefaultGraph())
    assert total == len(found) == len(expected) == len(set(found))
    assert {q[3] for q in found} == {DEFAULT_GRAPH}


def test_named_graph_gives_its_quads(client, store, seed_base: str) -> None:
    graph = f"{seed_base}graph/provenance"
    found, total = walk(client, f"{seed_base}fragments?graph={graph}")
    expected = store_quads(store, graph=ox.NamedNode(graph))
    assert total == len(found) == len(expected) > 0
    assert set(found) == expected


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("subject=%22a%20literal%22", "subject"),
        ("predicate=%22x%22", "predicate"),
        ("predicate=_:b", "predicate"),
        ("object=not%20an%20iri", "object"),
        ("object=%22x%22%40bad_tag", "object"),
        ("object=%22unterminated", "object"),
        ("graph=%22x%22", "graph"),
        ("subject=http://exa%20mple.org/", "subject"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=99999999999", "page"),
        ("format=nonsense", "format"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client, query: str, parameter: str) -> None:
    response = client.get(f"/fragments?{query}", headers={"Accept": "text/plain"})
    assert response.status_code == 400
    assert parameter in response.get_data(as_text=True)


def test_unknown_media_type_is_406(client) -> None:
    response = client.get("/fragments", headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_a_page_past_the_end_is_empty_and_points_back(client, seed_base: str) -> None:
    url = f"{seed_base}fragments?subject={seed_base}{PLACE}&page=50"
    dataset = parse(fetch(client, url).data, "nquads", base=url)
    assert not data_quads(dataset, url)
    assert metadata_value(dataset, url, HYDRA + "previous") is not None
    assert metadata_value(dataset, url, HYDRA + "next") is None


def test_pages_are_immutable_per_build(client, seed_base: str) -> None:
    url = local(f"{seed_base}fragments?subject={seed_base}{PLACE}")
    first = client.get(url, headers={"Accept": "text/turtle", "Accept-Encoding": "gzip"})
    assert first.status_code == 200
    assert first.headers["Content-Encoding"] == "gzip"
    assert "public" in first.headers["Cache-Control"]
    assert "Accept" in first.headers["Vary"]
    rdflib.Graph().parse(data=gzip.decompress(first.data), format="turtle")
    etag = first.headers["ETag"]
    again = client.get(url, headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304
    other = client.get(url, headers={"Accept": "application/n-quads", "If-None-Match": etag})
    assert other.status_code == 200  # another variant, another ETag


def test_counts_past_the_limit_are_estimates_from_the_statistics(
    seed_dist: Path, seed_base: str
) -> None:
    from support import in_process_app

    client = in_process_app(seed_dist, fragments_count_limit=5).test_client()
    url = f"{seed_base}fragments?predicate={RDF_TYPE.replace('#', '%23')}&graph={default_graph_iri(seed_base).replace('#', '%23')}"
    dataset = parse(fetch(client, url).data, "nquads", base=url)
    store = ox.Store.read_only(str(seed_dist / STORE_DIR))
    exact = len(
        list(store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), None, ox.DefaultGraph()))
    )
    # Exact all the same: void.ttl's property partition counts the union's rdf:type triples.
    assert int(metadata_value(dataset, url, HYDRA + "totalItems")) == exact
    url = f"{seed_base}fragments?subject={seed_base}{PLACE}"
    dataset = parse(fetch(client, url).data, "nquads", base=url)
    assert int(metadata_value(dataset, url, HYDRA + "totalItems")) >= 5
    comments = {
        str(o)
        for _s, p, o, _g in dataset.quads((rdflib.URIRef(url), None, None, None))
        if "comment" in str(p)
    }
    assert any("estimate" in c for c in comments)


def test_html_page_for_people(client, seed_base: str) -> None:
    response = client.get(
        f"/fragments?predicate={RDFS_LABEL.replace('#', '%23')}&object=%22Xocal%C4%B1%22%40az",
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    checker = check_html(text)
    assert 'name="subject"' in text and 'name="graph"' in text
    assert "Xocalı" in text
    assert f"/{PLACE}" in checker.links or any(link.endswith(PLACE) for link in checker.links)


def test_hostile_literal_is_escaped_in_html(client) -> None:
    response = client.get(
        "/fragments?object=%22%3Cscript%3Ealert(1)%3C%2Fscript%3E%22",
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.get_data(as_text=True)


def test_home_page_and_dataset_description_advertise_the_fragments(client, seed_base: str) -> None:
    home = client.get("/", headers={"Accept": "text/html"})
    assert 'href="/fragments"' in home.get_data(as_text=True)
    description = client.get("/dataset", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=description.data, format="turtle")
    services = set(graph.objects(None, rdflib.URIRef("http://www.w3.org/ns/dcat#accessService")))
    assert rdflib.URIRef(f"{seed_base}fragments") in services


@pytest.mark.parametrize(
    "query",
    [
        "q=khojaly%&q=Xocal%C4%B1%C0%AF&a",
        "x=%C4%B1%F&y=1",
        "limit=Xocal%C4%B1%zz&&",
        "%",
        "a=%22%3C",
    ],
)
def test_any_query_string_gets_a_page_whose_iri_is_valid(client, query: str) -> None:
    """Found by the fuzzer: a stray "%" in the query string (not a parameter of ours) made the
    page's IRI invalid (500). The page IRI keeps the client's bytes, escaped where needed."""
    response = client.get(f"/fragments?{query}", headers={"Accept": "application/n-quads"})
    assert response.status_code == 200
    pages = {
        q.subject.value
        for q in ox.parse(response.data, format=ox.RdfFormat.N_QUADS)
        if q.predicate.value == HYDRA + "itemsPerPage"
    }
    assert len(pages) == 1
