"""/search (publisher/web/search.py): the JSON API, the results page, the search box on every
page (templates/base.html) and its script (static/search.js)."""

from __future__ import annotations

import re

import pytest
import requests
from html_checks import check_html
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSON = {"Accept": "application/json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HIT_FIELDS = {"iri", "href", "label", "lang", "type", "typeIri", "match", "kind", "score"}


def search(client, headers=JSON, **params):
    return client.get("/search", query_string=params, headers=headers)


@pytest.mark.parametrize(
    ("query", "label", "lang"),
    [("xocali", "Xocalı", "az"), ("ходжалы", "Ходжалы", "ru"), ("khojaly", "Khojaly", "en")],
)
def test_json_hits(client, seed_base: str, query: str, label: str, lang: str) -> None:
    response = search(client, q=query)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    answer = response.get_json()
    assert answer["query"] == query and answer["limit"] == 10
    hits = answer["hits"]
    for hit in hits:
        assert set(hit) >= HIT_FIELDS
        assert 0 <= hit["score"] <= 100
        assert hit["href"] == "/" + hit["iri"].removeprefix(seed_base)
    first = hits[0]
    assert first["iri"] == seed_base + "id/place/khojaly"
    assert (first["label"], first["match"], first["lang"], first["type"]) == (
        label,
        label,
        lang,
        "City",
    )


def test_non_ascii_query_in_the_url(client, seed_base: str) -> None:
    response = client.get("/search?q=Xocal%C4%B1&limit=1", headers=JSON)
    assert response.get_json()["hits"][0]["iri"] == seed_base + "id/place/khojaly"


def test_a_source_s_name_says_whose_it_is(client, seed_base: str) -> None:
    hits = search(client, q="khojaly genocide").get_json()["hits"]
    named = next(h for h in hits if h["kind"] == "nameUsed")
    assert named["match"] == "Khojaly genocide" and named["label"] == "Khojaly massacre"
    assert named["source"] == seed_base + "graph/press-release-2023-02-26"


def test_limit(client) -> None:
    assert len(search(client, q="k", limit="2").get_json()["hits"]) == 2
    assert search(client, q="k", limit="50").status_code == 200


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "k", "limit": "0"}, "limit"),
        ({"q": "k", "limit": "51"}, "limit"),
        ({"q": "k", "limit": "-1"}, "limit"),
        ({"q": "k", "limit": "ten"}, "limit"),
        ({"q": "k", "limit": "١"}, "limit"),  # an Arabic-Indic digit: isdigit() but not ASCII
        ({"q": "k", "format": "xml"}, "format"),
    ],
)
def test_bad_input_is_400_naming_the_parameter(client, params: dict, named: str) -> None:
    response = search(client, **params)
    assert response.status_code == 400
    assert response.get_json()["message"].startswith(named + ":")


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "*",
        "NEAR(a b)",
        "khojaly AND",
        "OR NOT",
        "folded:x",
        "^x",
        "(((",
        "'; DROP TABLE name; --",
        "%_%",
        "\U0001f600 Xocalı",
        "ı" * 200,
        "😀" * 200,
    ],
)
def test_hostile_queries_never_500(client, query: str) -> None:
    for headers in (JSON, BROWSER):
        response = search(client, headers, q=query)
        assert response.status_code == 200, (query, response.data[:200])


def test_caching_headers(client) -> None:
    first = search(client, q="xocali")
    etag = first.headers["ETag"]
    assert first.headers["Last-Modified"] and "Accept" in first.headers["Vary"]
    assert "public" in first.headers["Cache-Control"]
    again = client.get("/search?q=xocali", headers={**JSON, "If-None-Match": etag})
    assert again.status_code == 304
    page = search(client, BROWSER, q="xocali")
    assert page.headers["ETag"] != etag  # the page and the JSON are different variants


def test_negotiation(client) -> None:
    assert search(client, {"Accept": "*/*"}, q="x").mimetype == "application/json"
    assert search(client, {}, q="x").mimetype == "application/json"
    assert search(client, BROWSER, q="x").mimetype == "text/html"
    assert search(client, BROWSER, q="x", format="json").mimetype == "application/json"
    assert search(client, {"Accept": "image/png"}, q="x").status_code == 406


def test_results_page(client, seed_base: str) -> None:
    response = search(client, BROWSER, q="Xocalı")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    checker = check_html(text)
    assert '<a href="/id/place/khojaly" lang="az">Xocalı</a>' in text
    assert '<a href="/id/event/khojaly-massacre" lang="az">Xocalı faciəsi</a>' in text
    assert "/id/place/khojaly" in checker.links
    # The header's box keeps the query; the page offers the same answer as JSON.
    assert 'id="search-box" name="q" value="Xocalı"' in text
    assert "/search?q=Xocal%C4%B1&amp;limit=10&amp;format=json" in text
    # A source's name is shown as that source's.
    named = search(client, BROWSER, q="khojaly genocide").get_data(as_text=True)
    assert (
        'name used in <a href="/graph/press-release-2023-02-26">' in named
        and '<q lang="en">Khojaly genocide</q>' in named
    )


def test_results_page_without_a_query_and_without_hits(client) -> None:
    empty = search(client, BROWSER)
    assert empty.status_code == 200
    check_html(empty.get_data(as_text=True))
    nothing = search(client, BROWSER, q="zzzzqqq")
    assert "Nothing in the dataset is named" in nothing.get_data(as_text=True)
    check_html(nothing.get_data(as_text=True))
    bad = search(client, BROWSER, q="k", limit="0")
    assert bad.status_code == 400 and bad.mimetype == "text/html"


PAGE_TYPES = [
    "/",
    "/doc/place/khojaly.html",
    "/doc/event/khojaly-massacre.html",
    "/def/",
    "/def/Count",
    "/graph/press-release-2023-02-26",
    "/dataset",
    "/shapes",
    "/sparql",
    "/dumps/",
    "/search?q=xocali",
    "/doc/place/nowhere",
]


@pytest.mark.parametrize("path", PAGE_TYPES)
def test_the_search_box_is_on_every_page(client, path: str) -> None:
    response = client.get(path, headers=BROWSER)
    assert response.mimetype == "text/html", path
    text = response.get_data(as_text=True)
    check_html(text)
    form = re.search(r'<form role="search" action="/search"[^>]*>(.*?)</form>', text, re.S)
    assert form, path
    box = re.search(r"<input [^>]*>", form.group(1)).group(0)
    for attribute in (
        'type="text"',  # a combobox on type=search is an error for the Nu checker
        'id="search-box"',
        'name="q"',
        'role="combobox"',
        'aria-controls="search-suggestions"',
        'aria-expanded="false"',
    ):
        assert attribute in box, (path, attribute)
    assert '<ul id="search-suggestions" role="listbox"' in form.group(1)
    assert '<label for="search-box">' in form.group(1)
    assert '<script src="/static/search.js" defer></script>' in text


def test_the_script_drives_the_ids_the_page_has(client) -> None:
    script = client.get("/static/search.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    source = script.get_data(as_text=True)
    for needle in (
        '"search-box"',
        '"search-suggestions"',
        "aria-activedescendant",
        "aria-expanded",
        '"option"',
        "/search?q=",
        "limit=",
        "ArrowDown",
        "ArrowUp",
        "Escape",
        "Enter",
    ):
        assert needle in source, needle
    assert client.get("/static/search.css").status_code == 200


def test_over_real_http(live_server, seed_base: str) -> None:
    answer = requests.get(
        live_server.url + "/search", params={"q": "ХОДЖАЛЫ", "limit": 3}, timeout=30
    )
    assert answer.status_code == 200
    assert answer.json()["hits"][0]["iri"] == seed_base + "id/place/khojaly"
    page = requests.get(
        live_server.url + "/search", params={"q": "366"}, headers=BROWSER, timeout=30
    )
    assert "/id/organisation/366th-motorized-rifle-regiment" in page.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=st.text(max_size=60),
    limit=st.one_of(st.none(), st.text(max_size=4), st.integers(-5, 80).map(str)),
    accept=st.sampled_from(["application/json", "text/html", "*/*", "text/plain"]),
)
def test_any_text_is_200_or_a_named_400(app, query: str, limit: str | None, accept: str) -> None:
    params = {"q": query, **({"limit": limit} if limit is not None else {})}
    response = app.test_client().get("/search", query_string=params, headers={"Accept": accept})
    assert response.status_code in (200, 400, 406), response.data[:300]
    if response.status_code == 400 and response.mimetype == "application/json":
        assert response.get_json()["message"].split(":")[0] in ("q", "limit")
