"""Pictures drawn on the server (web/pictures.py, web/picture_data.py): the timeline, the
neighbourhood, classes and sources at a glance.

Every SVG is parsed as XML; its title and description are checked, every mark must be a link
to a page that exists, the table equivalent must hold the same links, and hostile labels
(quotes, <, &, "</script>", Azerbaijani and Russian) must come through as text. Runs on the
seed plus a synthetic second source (tests/pages_support.py).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from html_checks import check_html
from page_parsing import SVG, Figure, figures, svg_text
from pages_support import HOSTILE, SECOND_DATE

from publisher.web.picture_data import HOME_TIMELINE_ITEMS, NEIGHBOURS
from publisher.web.pictures import Cell, Dated, Neighbour, neighbourhood, timeline

EVENT = "/doc/event/khojaly-massacre"
PAGES = ["/", EVENT, "/doc/document/synthetic-report-2024", "/doc/place/khojaly"]


def page(client, path: str, **headers: str) -> str:
    response = client.get(path, headers={"Accept": "text/html", **headers})
    assert response.status_code == 200, path
    text = response.get_data(as_text=True)
    check_html(text)
    return text


def assert_accessible(figure: Figure) -> None:
    svg = figure.svg
    # Not "img": its children would be presentational, and the marks are links.
    assert svg.get("role") == "document"
    title_id, desc_id = (svg.get("aria-labelledby") or "").split()
    title = svg.find(SVG + "title")
    desc = svg.find(SVG + "desc")
    assert title is not None and title.get("id") == title_id and svg_text(title).strip()
    assert desc is not None and desc.get("id") == desc_id and svg_text(desc).strip()
    assert "style" not in ET.tostring(svg, encoding="unicode")  # the CSP allows no inline style
    assert not list(svg.iter(SVG + "script"))
    for mark in figure.marks():
        tooltip = mark.find(SVG + "title")
        assert tooltip is not None and svg_text(tooltip).strip(), "a mark without a name"


@pytest.mark.parametrize("path", PAGES)
def test_every_picture_is_accessible_and_its_marks_are_links_to_pages(
    two_sources_client, path: str
) -> None:
    shown = figures(page(two_sources_client, path))
    assert shown, f"no picture on {path}"
    for figure in shown.values():
        assert_accessible(figure)
        hrefs = {mark.get("href") for mark in figure.marks()}
        assert hrefs, figure.key
        # The table equivalent links to the same resources as the picture.
        assert figure.table_hrefs() == hrefs, figure.key
        for href in hrefs:
            assert href, figure.key
            if not href.startswith("/"):
                # A class of a reused vocabulary (org:Organization): its own IRI, not fetched.
                assert href.startswith(("http://", "https://")) and "127.0.0.1" not in href
                continue
            response = two_sources_client.get(
                href, headers={"Accept": "text/html"}, follow_redirects=True
            )
            assert response.status_code == 200, href


def test_home_page_has_classes_sources_and_the_timeline(two_sources_client) -> None:
    shown = figures(page(two_sources_client, "/"))
    assert set(shown) == {"home-sources", "home-classes", "home-timeline"}
    timeline_rows = shown["home-timeline"].table_rows
    dates = [row[0][0] for row in timeline_rows]
    assert dates == sorted(dates)
    assert "1992-02-25 – 1992-02-26" in dates  # the night of 25-26 February 1992
    assert "2023-02-26" in dates  # the commemoration and the press release
    assert SECOND_DATE in dates  # the second source's date
    marks = shown["home-timeline"].marks("timeline-mark")
    assert len(marks) == len(timeline_rows)
    assert "/id/event/khojaly-massacre" in {m.get("href") for m in marks}
    state = two_sources_client.application.extensions["publisher"].current
    statements = state.graph_sizes[state.base + "graph/synthetic-report-2024"]
    sources = {row[0][0]: (row[1][0], row[2][0]) for row in shown["home-sources"].table_rows}
    assert sources[HOSTILE] == (str(statements), SECOND_DATE)  # its statements, its date
    assert any(r[1][0] == "Khojaly massacre" for r in timeline_rows)


def test_the_event_page_draws_its_timeline_and_neighbourhood(two_sources_client) -> None:
    shown = figures(page(two_sources_client, EVENT))
    assert {"page-timeline", "neighbourhood"} <= set(shown)
    labels = [row[1][0] for row in shown["page-timeline"].table_rows]
    assert labels[0] == "Khojaly massacre"  # 1992 first
    assert HOSTILE in labels  # the second source, which is about the event
    picture = shown["neighbourhood"]
    nodes = picture.marks("neighbour")
    assert 0 < len(nodes) <= NEIGHBOURS
    assert picture.more and "more linked resources" in picture.more  # capped
    # Edges are labelled with the properties' labels, in the picture and the table.
    properties = {row[1][0] for row in picture.table_rows}
    assert {"sub-event", "about", "location"} <= properties
    edge_labels = {svg_text(t) for t in picture.svg.iter(SVG + "text")}
    assert "sub-event" in edge_labels and "location" in edge_labels


def test_hostile_and_non_ascii_labels_are_text_in_the_svg(two_sources_client) -> None:
    text = page(two_sources_client, EVENT)
    assert "<svg onload" not in text and "</script><svg" not in text
    shown = figures(text)
    tooltips = [
        svg_text(mark.find(SVG + "title"))  # type: ignore[arg-type]
        for figure in shown.values()
        for mark in figure.marks()
    ]
    assert any(t.startswith(HOSTILE) for t in tooltips)  # parsed back to the very string
    azeri = figures(page(two_sources_client, EVENT, **{"Accept-Language": "az"}))
    title = azeri["neighbourhood"].svg.find(SVG + "title")
    assert title is not None and "Xocalı faciəsi" in svg_text(title)
    russian = figures(page(two_sources_client, "/doc/place/khojaly", **{"Accept-Language": "ru"}))
    texts = [t for t in russian["neighbourhood"].svg.iter(SVG + "text") if t.get("class")]
    centre = next(t for t in texts if t.get("class") == "centre-label")
    assert svg_text(centre) == "Ходжалы"
    assert centre.get("{http://www.w3.org/XML/1998/namespace}lang") == "ru"


# -- the drawing functions on their own: controls characters, layout bounds --------------------
def test_characters_xml_cannot_carry_are_replaced_not_written() -> None:
    label = "bell\x07 nul\x00 <&>\"' Ходжалы \ufffe"
    picture = timeline(
        "t",
        [Dated("/doc/x", label, "ru", date(1992, 2, 25), date(1992, 2, 26), "start date")],
        title=label,
    )
    svg = ET.fromstring(str(picture.svg))
    assert svg_text(svg.find(SVG + "title")).startswith("bell\ufffd nul\ufffd <&>\"' Ходжалы")  # type: ignore[arg-type]


def test_the_neighbourhood_stays_inside_its_box_and_is_deterministic() -> None:
    nodes = [
        Neighbour(f"/doc/n/{i}", f"node {i} " + "x" * 50, None, f"http://x/{i}", (("out", "p"),))
        for i in range(NEIGHBOURS)
    ]
    nodes.append(
        Neighbour(
            "/doc/n/far", "far", None, "http://x/far", (("in", "q"),), hop=2, via="http://x/0"
        )
    )
    first = neighbourhood("n", Cell("centre"), nodes, title="t")
    again = neighbourhood("n", Cell("centre"), nodes, title="t")
    assert str(first.svg) == str(again.svg)
    svg = ET.fromstring(str(first.svg))
    width, height = (float(v) for v in (svg.get("width"), svg.get("height")))
    for circle in svg.iter(SVG + "circle"):
        assert 0 <= float(circle.get("cx") or -1) <= width
        assert 0 <= float(circle.get("cy") or -1) <= height
    assert len(first.rows) == NEIGHBOURS + 1


# -- a dataset with more dated things than the home page shows ----------------------------------
@pytest.fixture(scope="module")
def many_dated_client(tmp_path_factory: pytest.TempPathFactory):
    from support import build_data_only, in_process_app

    base = "http://127.0.0.1:8080/"
    data = tmp_path_factory.mktemp("many-dated")
    lines = []
    for i in range(HOME_TIMELINE_ITEMS + 10):
        event = f"<{base}id/event/e{i}>"
        graph = f"<{base}graph/g>"
        lines += [
            f"{event} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://schema.org/Event> {graph} .",
            f'{event} <http://www.w3.org/2000/01/rdf-schema#label> "Ereignis {i} «x»"@de {graph} .',
            f'{event} <https://schema.org/startDate> "{1900 + i}-01-0{1 + i % 9}"^^<http://www.w3.org/2001/XMLSchema#date> {graph} .',
        ]
        # Event i is linked to by i others: the most connected are the latest ones.
        lines += [
            f"<{base}id/thing/t{i}-{j}> <https://schema.org/about> {event} {graph} ."
            for j in range(i)
        ]
    (data / "many.nq").write_text("\n".join(lines) + "\n", encoding="utf-8")
    dist = build_data_only(
        tmp_path_factory.mktemp("many-dated-dist") / "dist", base=base, data_dir=data
    )
    return in_process_app(dist).test_client()


def test_a_big_timeline_is_capped_to_the_most_connected_with_a_query_for_all(
    many_dated_client,
) -> None:
    timeline = figures(page(many_dated_client, "/"))["home-timeline"]
    marks = timeline.marks("timeline-mark")
    assert len(marks) == HOME_TIMELINE_ITEMS
    shown = {m.get("href") for m in marks}
    assert shown == {f"/id/event/e{i}" for i in range(10, HOME_TIMELINE_ITEMS + 10)}
    assert timeline.more and "and 10 more dated resources" in timeline.more
    (query_link,) = re.findall(r'href="([^"]+)"', timeline.more)
    answer = many_dated_client.get(
        html.unescape(query_link), headers={"Accept": "application/sparql-results+json"}
    )
    assert answer.status_code == 200
    rows = answer.get_json()["results"]["bindings"]
    assert len({row["resource"]["value"] for row in rows}) == HOME_TIMELINE_ITEMS + 10
