"""Sources side by side (web/sources_table.py) and citations as footnotes (resource.html).

The seed's press release says 613 people were killed; the synthetic second source of
tests/pages_support.py says 485. Both figures must be on the event's page, in the same
table, each with its own source's number; each source is cited in full once, at the top.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from html_checks import check_html
from page_parsing import TableReader, footnotes
from pages_support import HOSTILE, PUBLISHER, SECOND_DATE, SECOND_FIGURE, SECOND_QUOTE

EVENT = "/doc/event/khojaly-massacre"
SCHEMA_TEXT = "https://schema.org/text"


def html(client, path: str) -> str:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    check_html(text)
    return text


def side_by_side(text: str) -> list[list[tuple[str, str | None]]]:
    reader = TableReader("sources-side-by-side")
    reader.feed(text)
    return reader.rows


@pytest.fixture(scope="module")
def event_page(two_sources_app) -> str:
    return html(two_sources_app.test_client(), EVENT)


@pytest.fixture(scope="module")
def quotes(two_sources_dist: Path) -> set[str]:
    store = ox.Store.read_only(str(two_sources_dist / "store"))
    return {q.object.value for q in store.quads_for_pattern(None, ox.NamedNode(SCHEMA_TEXT), None)}


def test_both_figures_for_the_same_group_sit_side_by_side(event_page: str) -> None:
    notes = footnotes(event_page).notes
    rows = side_by_side(event_page)
    killed = [row for row in rows if row[0][0].startswith("people killed in Khojaly")]
    figures = {row[3][0] for row in killed}
    assert figures == {"figure: 613 people", f"figure: {SECOND_FIGURE} people"}
    assert rows.index(killed[0]) + 1 == rows.index(killed[1])  # adjacent rows
    by_figure = {row[3][0]: row for row in killed}
    seed, second = by_figure["figure: 613 people"], by_figure[f"figure: {SECOND_FIGURE} people"]
    seed_note, second_note = seed[1][1], second[1][1]
    assert seed_note != second_note  # each with its own source's number
    assert "Embassy of the Republic of Azerbaijan in Brussels" in notes[seed_note[1:]]
    assert HOSTILE in notes[second_note[1:]] and PUBLISHER in notes[second_note[1:]]
    assert seed[2][0] == "2023-02-26" and second[2][0] == SECOND_DATE
    assert second[4][0] == SECOND_QUOTE  # in a <q> element: the browser adds the marks


def test_quotes_are_the_sources_exact_words(event_page: str, quotes: set[str]) -> None:
    rows = side_by_side(event_page)
    assert len(rows) >= 15
    for row in rows:
        assert row[4][0] in quotes, row[4][0]


def test_a_lower_bound_stays_a_lower_bound_and_characterisations_stay_quoted(
    event_page: str,
) -> None:
    figures = [row[3][0] for row in side_by_side(event_page)]
    assert "figure: more than 5,000 inhabitants (a lower bound)" in figures
    assert not any("5,000 inhabitants" in f and "more than" not in f for f in figures)
    assert "legal characterisation: “genocide”" in figures  # the source's term, in quotes
    assert "characterisation: “tragedy”" in figures  # the second source's


def test_every_source_is_cited_once_and_every_row_points_to_one(event_page: str) -> None:
    notes = footnotes(event_page)
    assert list(notes.notes) == [f"source-{n}" for n in range(1, len(notes.notes) + 1)]
    assert len(notes.notes) == 3  # the press release, the second source, the curated data
    assert set(notes.references) == set(notes.notes)  # every number is used, none dangles
    # The full citation once per source document, not on every row.
    assert event_page.count("according to <a") == 2
    assert '<sup><a href="#source-1">1</a></sup>' in event_page
    # Statement rows carry numbers, not citations.
    statements = event_page[event_page.index('id="s-') :]
    assert "according to <a" not in statements
    assert re.search(r'<td class="source"><sup><a href="#source-\d">\d</a></sup>', statements)


def test_a_page_without_statements_about_it_has_no_table(two_sources_client) -> None:
    text = html(two_sources_client, "/doc/place/brussels")
    assert "sources-side-by-side" not in text
    assert footnotes(text).notes  # still numbered sources


def test_the_seed_event_page_still_passes_the_html_checks(client) -> None:
    text = html(client, EVENT)
    rows = side_by_side(text)
    assert {row[3][0] for row in rows if row[0][0].startswith("people killed")} == {
        "figure: 613 people"
    }
