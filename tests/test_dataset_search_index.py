"""The search index the build writes (publisher/dataset/search_index.py) and its reader
(publisher/textsearch.py): folding, ranking, hostile queries, on the seed data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from publisher.textsearch import SEARCH_FILE, SearchIndex, fold, match_expression


@pytest.fixture(scope="module")
def index(seed_dist: Path) -> SearchIndex:
    return SearchIndex(seed_dist / SEARCH_FILE)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Xocalı", "xocali"),  # dotless ı has no combining mark: folded explicitly
        ("XOCALI", "xocali"),
        ("İstanbul", "istanbul"),  # İ = I + combining dot above
        ("Azərbaycan", "azerbaycan"),  # ə, typed "e" on keyboards without it
        ("ХОДЖАЛЫ", "ходжалы"),  # Cyrillic keeps its script
        ("Ходжалинская резня", "ходжалинская резня"),
        ("Ёлка", "елка"),
        ("États-Unis", "etats unis"),
        ("  366th   Motorized\tRifle ", "366th motorized rifle"),
        ('"NEAR(a b)*', "near a b"),
        ("***", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_match_expression_quotes_every_word() -> None:
    assert match_expression("near a") == '"near"* "a"*'
    # Even a quote that `fold` would never leave is doubled inside the FTS5 string.
    assert match_expression('a"b') == '"a""b"*'


def ids(hits: list, base: str) -> list[str]:
    return [hit.iri.removeprefix(base) for hit in hits]


@pytest.mark.parametrize(
    ("query", "lang", "label"),
    [
        ("xocali", "az", "Xocalı"),
        ("Xocalı", "az", "Xocalı"),
        ("XOCALI", "az", "Xocalı"),
        ("ходжалы", "ru", "Ходжалы"),
        ("Ходжалы", "ru", "Ходжалы"),
        ("khojaly", "en", "Khojaly"),
        ("Khodjaly", "fr", "Khodjaly"),
    ],
)
def test_each_language_finds_the_town_first(
    index: SearchIndex, seed_base: str, query: str, lang: str, label: str
) -> None:
    hits = index.search(query, limit=5)
    first = hits[0]
    assert first.iri == seed_base + "id/place/khojaly"
    assert (first.label, first.match, first.lang, first.kind, first.tier) == (
        label,
        label,
        lang,
        "label",
        0,
    )
    assert first.type == "City" and first.score == 100.0
    # One hit per resource.
    assert len({h.iri for h in hits}) == len(hits)


def test_ranking_exact_then_prefix_then_words(index: SearchIndex, seed_base: str) -> None:
    hits = index.search("khojaly", limit=20)
    tiers = [h.tier for h in hits]
    assert tiers == sorted(tiers) and tiers[0] == 0 and 1 in tiers and 2 in tiers
    found = ids(hits, seed_base)
    assert found[0] == "id/place/khojaly"
    # The name starting with the query before a name that only contains it as a word.
    assert found.index("id/event/khojaly-massacre") < found.index("id/event/khojaly-attack")
    scores = [h.score for h in hits]
    assert all(0 <= s <= 100 for s in scores)
    assert [h.score for h in hits if h.tier == 2] == sorted(
        (h.score for h in hits if h.tier == 2), reverse=True
    )


def test_prefix_completion_as_you_type(index: SearchIndex, seed_base: str) -> None:
    for typed in ("x", "xo", "xoc", "xocal"):
        assert ids(index.search(typed, limit=3), seed_base)[0] == "id/place/khojaly", typed
    assert ids(index.search("ходж", limit=3), seed_base)[:1] == ["id/place/khojaly"]
    assert ids(index.search("366", limit=1), seed_base) == [
        "id/organisation/366th-motorized-rifle-regiment"
    ]
    # Several words: each a prefix of some word of the name, in any order.
    assert ids(index.search("rifle 366", limit=1), seed_base) == [
        "id/organisation/366th-motorized-rifle-regiment"
    ]


def test_alternative_labels_and_the_names_sources_use(index: SearchIndex, seed_base: str) -> None:
    usa = index.search("USA", limit=1)[0]
    assert usa.iri == seed_base + "id/place/united-states"
    assert (usa.kind, usa.match, usa.label, usa.tier) == ("altLabel", "USA", "United States", 0)

    # "Khojaly genocide" is the press release's name for the event, not its label: the hit
    # says whose name it is.
    genocide = next(h for h in index.search("khojaly genocide", limit=10) if h.kind == "nameUsed")
    assert genocide.iri == seed_base + "id/event/khojaly-massacre"
    assert genocide.label == "Khojaly massacre"
    assert genocide.match == "Khojaly genocide"
    assert genocide.source == seed_base + "graph/press-release-2023-02-26"


def test_type_and_namespace_filters(index: SearchIndex, seed_base: str) -> None:
    places = index.search("khojaly", limit=10, types=frozenset({"https://schema.org/Place"}))
    assert ids(places, seed_base) == ["id/place/khojaly"]
    # `within` keeps to one part of the IRI space (reconciliation: things under id/).
    assert all(
        h.iri.startswith(seed_base + "id/")
        for h in index.search("khojaly", limit=20, within=seed_base + "id/")
    )
    assert any(h.iri == seed_base + "def/" for h in index.search("khojaly", limit=20))


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        "*",
        "Khoj*",
        "NEAR(khojaly massacre)",
        "khojaly AND massacre",
        "OR",
        "NOT khojaly",
        "folded: khojaly",
        "^khojaly",
        "{folded} : x",
        "'; DROP TABLE name; --",
        "%",
        "_",
        "\\",
        "\U0001f600",
        "\u200b",
        "x" * 5000,
        " ".join(["khojaly"] * 100),
    ],
)
def test_hostile_queries_are_text(index: SearchIndex, query: str) -> None:
    hits = index.search(query, limit=5)
    assert isinstance(hits, list) and len(hits) <= 5


def test_operators_are_searched_as_words(index: SearchIndex, seed_base: str) -> None:
    # "and" is a word of several labels: found as a word, not read as FTS5's AND.
    assert index.search("conflict and", limit=1)[0].iri == (
        seed_base + "id/event/azerbaijan-armenia-conflict"
    )
    assert index.search("", limit=5) == [] and index.search("  !? ", limit=5) == []


def test_the_file_is_part_of_the_build(seed_dist: Path, seed_base: str) -> None:
    sums = (seed_dist / "SHA256SUMS").read_text(encoding="utf-8")
    assert f"  {SEARCH_FILE}\n" in sums
    assert SEARCH_FILE in (seed_dist / "void.ttl").read_text(encoding="utf-8")
    with sqlite3.connect(f"file:{seed_dist / SEARCH_FILE}?mode=ro", uri=True) as db:
        languages = {row[0] for row in db.execute("SELECT DISTINCT lang FROM name")}
        assert {"en", "az", "ru", "fr", "nl"} <= languages
        # Only IRIs minted under the base are indexed.
        outside = "SELECT COUNT(*) FROM entity WHERE substr(iri, 1, ?) != ?"
        assert db.execute(outside, (len(seed_base), seed_base)).fetchone() == (0,)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_file_that_is_not_an_index_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / SEARCH_FILE
    bogus.write_bytes(b"not a database")
    with pytest.raises(sqlite3.DatabaseError):
        SearchIndex(bogus)
