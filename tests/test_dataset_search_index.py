"""The search index the build writes (publisher/dataset/search_index.py) and its reader
(publisher/textsearch.py): folding, ranking, hostile queries, on the seed data."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from publisher.dataset.search_index import RDF_TYPE
from publisher.namespaces import STANDARD_PREFIXES
from publisher.textsearch import SEARCH_FILE, SearchIndex, fold, fold_all, match_expression


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


def test_fold_all_folds_as_fold_does(corpus_store) -> None:
    """The build folds every name at once (fold_all); each must come out as `fold` gives it,
    on every literal of a generated corpus (en/az/ru) and on text chosen to break the batch:
    the separator itself, astral letters and marks, final sigma, punctuation outside ASCII."""
    import pyoxigraph as ox

    from publisher.textsearch import _COMMON_PUNCTUATION

    texts = [q.object.value for q in corpus_store if isinstance(q.object, ox.Literal)]
    texts += ["", " ", "\x00", "a\x00b", "_", "a _ b", "  _Xocalı_  ", "Xocalı\nХоджалы\t"]
    texts += ["𝐀𝐁 x", "𝐀\u0301", "e\u0301\U0001d400", "ΟΔΟΣ", "İstanbul", "ǰ", "ﬁ", "ß", "Ꭰ", "½"]
    texts += ["«Xocalı»—Ходжалы…", "¡¿x?!", "a·b•c", "x\u200by", "\u3000\u00a0Ə", "Ağdam's"]
    texts += [_COMMON_PUNCTUATION, "x" * 5000, "NEAR(a b)*"]
    assert fold_all(texts) == [fold.__wrapped__(text) for text in texts]
    assert not any(c.isalnum() for c in _COMMON_PUNCTUATION)


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


# --- Incremental update (publisher.dataset.search_index.update_search_index) --------------------

UPDATE_BASE = "http://update.example/"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory: pytest.TempPathFactory):
    """A store as the build has it: a few dozen generated documents, the union as default graph."""
    from source_corpus import write_corpus

    from publisher.dataset.load import load_dataset
    from publisher.store.union import store_union_default_graph

    data = tmp_path_factory.mktemp("update-corpus") / "data"
    write_corpus(data, docs=30, seed=3)
    dataset = load_dataset(base=UPDATE_BASE, ontology_dir=ROOT / "ontology", data_dir=data)
    return store_union_default_graph(dataset.store)


def _store_copy(store):
    import pyoxigraph as ox

    copy = ox.Store()
    copy.bulk_extend(list(store))
    return copy


def _term_key(term) -> str:
    import pyoxigraph as ox

    return "_:" + term.value if isinstance(term, ox.BlankNode) else term.value


def _apply(store, *, removed: list, added: list) -> set[str]:
    """The delta on a named-graph store with its union in the default graph (a set): a removed
    triple leaves the default graph only when no other named graph still states it. Returns
    every subject of every quad added or removed, as the build's incremental path passes it."""
    import pyoxigraph as ox

    default = ox.DefaultGraph()
    for quad in removed:
        store.remove(quad)
    for quad in removed:
        others = store.quads_for_pattern(quad.subject, quad.predicate, quad.object, None)
        if not any(not isinstance(q.graph_name, ox.DefaultGraph) for q in others):
            store.remove(ox.Quad(quad.subject, quad.predicate, quad.object, default))
    for quad in added:
        store.add(quad)
        store.add(ox.Quad(quad.subject, quad.predicate, quad.object, default))
    return {_term_key(q.subject) for q in [*removed, *added]}


def _graph(store, name: str) -> list:
    import pyoxigraph as ox

    return list(store.quads_for_pattern(None, None, None, ox.NamedNode(UPDATE_BASE + name)))


def _renamed(quads: list, old: str, new: str) -> list:
    """A copy of a document under fresh IRIs (and its texts saying so)."""
    import pyoxigraph as ox

    def term(t):
        if isinstance(t, ox.NamedNode):
            return ox.NamedNode(t.value.replace(old, new))
        if isinstance(t, ox.Literal) and t.language:
            return ox.Literal(t.value.replace(old[-5:], new[-5:]), language=t.language)
        return t

    return [
        ox.Quad(term(q.subject), q.predicate, term(q.object), term(q.graph_name)) for q in quads
    ]


def _table_contents(path: Path) -> dict[str, object]:
    """Every table, with the surrogate keys (entity ids, name row ids) replaced by what they
    stand for: the IRI, and the rank of the row id (only its order is ever read)."""
    with sqlite3.connect(path) as db:  # read-write: FTS5's integrity-check is a command
        iri = dict(db.execute("SELECT id, iri FROM entity"))
        contents: dict[str, object] = {
            table: sorted(db.execute(f"SELECT * FROM {table}"))
            for table in ("meta", "class", "property")
        }
        contents["entity"] = sorted(db.execute("SELECT iri, label, type, type_label FROM entity"))
        contents["entity_type"] = sorted(
            (iri[entity], cls) for entity, cls in db.execute("SELECT * FROM entity_type")
        )
        contents["name"] = [
            (iri[row[0]], *row[1:])
            for row in db.execute(
                "SELECT entity, text, folded, lang, kind, source FROM name ORDER BY rowid"
            )
        ]
        contents["fts"] = [
            (iri[row[0]], row[1])
            for row in db.execute(
                "SELECT n.entity, n.folded FROM name_fts JOIN name AS n ON n.rowid = name_fts.rowid"
                ' WHERE name_fts MATCH \'"s"* OR "x"* OR "н"* OR "с"*\' ORDER BY name_fts.rowid'
            )
        ]
        db.execute("INSERT INTO name_fts (name_fts) VALUES ('integrity-check')")
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    return contents


QUERIES = (
    "x",
    "xo",
    "Xocalı",
    "xocali",
    "ходж",
    "Ходжалы",
    "s",
    "sy",
    "syn",
    "synthetic event",
    "synthetic source 00",
    "sintetik",
    "синтетическое событие",
    "incident 3",
    "трагедия",
    "killings",
    "checkpoint",
    "group",
)


def _answers(path: Path) -> dict[str, object]:
    from publisher.textsearch import SearchIndex

    index = SearchIndex(path)
    answers: dict[str, object] = {}
    for query in QUERIES:
        answers[query] = index.search(query, limit=50)
        answers[query + " (second page)"] = index.search(query, limit=10, offset=10)
        answers[query + " (events)"] = index.search(
            query, limit=20, types=frozenset({"https://schema.org/Event"})
        )
    answers["classes"] = index.classes()
    answers["classes under id/"] = index.classes(within=UPDATE_BASE + "id/")
    answers["properties"] = index.properties()
    for hit in answers["xocali"] + answers["synthetic source 00"]:
        answers[hit.iri] = (index.entity(hit.iri), index.types_of(hit.iri), index.names_of(hit.iri))
    return answers


def _assert_same_as_fresh(updated: Path, store, tmp_path: Path) -> None:
    from publisher.dataset.search_index import write_search_index

    fresh_dir = tmp_path / f"fresh-{len(list(tmp_path.iterdir()))}"
    fresh_dir.mkdir()
    fresh = write_search_index(store, base=UPDATE_BASE, target=fresh_dir)
    expected, got = _table_contents(fresh), _table_contents(updated)
    for table in expected:
        assert got[table] == expected[table], table
    assert _answers(updated) == _answers(fresh)


def _update(previous: Path, store, subjects: set[str], tmp_path: Path) -> Path:
    from publisher.dataset.search_index import update_search_index

    target = tmp_path / f"update-{len(list(tmp_path.iterdir()))}"
    target.mkdir()
    return update_search_index(previous, store, base=UPDATE_BASE, target=target, subjects=subjects)


def test_an_update_answers_as_a_fresh_index(corpus_store, tmp_path: Path) -> None:
    import pyoxigraph as ox

    from publisher.dataset.search_index import write_search_index

    store = _store_copy(corpus_store)
    first = tmp_path / "first"
    first.mkdir()
    previous = write_search_index(store, base=UPDATE_BASE, target=first)

    # One delta: a document edited (its incident renamed Xocalı / Ходжалы, its name for the
    # event changed, one thing given a second class), one added, one deleted.
    edited_name = "graph/synthetic-source-00002"
    old = _graph(store, edited_name)
    label = ox.NamedNode(STANDARD_PREFIXES["rdfs"] + "label")
    name_used = ox.NamedNode(UPDATE_BASE + "def/nameUsed")
    new = []
    for quad in old:
        if quad.predicate == label and quad.subject.value.endswith("-incident-1"):
            if quad.object.language in ("az", "ru"):
                text = "Xocalı" if quad.object.language == "az" else "Ходжалы"
                quad = ox.Quad(
                    quad.subject,
                    label,
                    ox.Literal(text, language=quad.object.language),
                    quad.graph_name,
                )
        elif quad.predicate == name_used:
            quad = ox.Quad(
                quad.subject,
                name_used,
                ox.Literal("Xocalı faciəsi", language="az"),
                quad.graph_name,
            )
        new.append(quad)
    incident = next(q.subject for q in old if q.subject.value.endswith("-incident-2"))
    graph = ox.NamedNode(UPDATE_BASE + edited_name)
    new.append(ox.Quad(incident, RDF_TYPE, ox.NamedNode("https://schema.org/Place"), graph))
    added_doc = _renamed(
        _graph(store, "graph/synthetic-source-00005"),
        "synthetic-source-00005",
        "synthetic-source-09999",
    )
    deleted_doc = _graph(store, "graph/synthetic-source-00007")
    subjects = _apply(store, removed=[*old, *deleted_doc], added=[*new, *added_doc])
    updated = _update(previous, store, subjects, tmp_path)
    _assert_same_as_fresh(updated, store, tmp_path)
    assert SearchIndex(updated).search("Xocalı", limit=1)[0].iri.endswith("-incident-1")
    assert SearchIndex(updated).search("Ходжалы", limit=1)[0].match == "Ходжалы"
    assert SearchIndex(updated).search("synthetic source 09999", limit=1)

    # A second update from the first one's file: the edit undone, and the ontology's labels
    # of a class (every Count hit shows it) and of a property changed.
    relabelled = []
    for term, text in (("def/Count", "Xocalı count"), ("def/nameUsed", "Ходжалы name")):
        node = ox.NamedNode(UPDATE_BASE + term)
        for quad in store.quads_for_pattern(node, label, None, None):
            if not isinstance(quad.graph_name, ox.DefaultGraph):
                changed = ox.Literal(text, language=quad.object.language)
                relabelled.append((quad, ox.Quad(node, label, changed, quad.graph_name)))
    assert len(relabelled) >= 2
    subjects = _apply(
        store,
        removed=[*new, *(was for was, _ in relabelled)],
        added=[*old, *(now for _, now in relabelled)],
    )
    again = _update(updated, store, subjects, tmp_path)
    _assert_same_as_fresh(again, store, tmp_path)
    assert "Xocalı count" in {label for _iri, label, _n in SearchIndex(again).classes()}
    hits = SearchIndex(again).search("Ходжалы", limit=50)
    assert hits and not any(h.iri.endswith("-incident-1") for h in hits)


def test_updates_that_fill_a_gap_between_two_names(corpus_store, tmp_path: Path) -> None:
    """Names added one by one, each after the last and before the same old neighbour, halve
    the room between row ids each time: the update spaces the names around out again."""
    import pyoxigraph as ox

    from publisher.dataset.search_index import ROWID_GAP, write_search_index

    store = _store_copy(corpus_store)
    first = tmp_path / "first"
    first.mkdir()
    path = write_search_index(store, base=UPDATE_BASE, target=first)
    graph = ox.NamedNode(UPDATE_BASE + "graph/synthetic-source-00003")
    label = ox.NamedNode(STANDARD_PREFIXES["rdfs"] + "label")
    for number in range(ROWID_GAP.bit_length() + 3):
        thing = ox.NamedNode(UPDATE_BASE + f"id/place/xocali-{number:02}")
        added = [
            ox.Quad(thing, label, ox.Literal(f"Xocalı {number:02}", language="az"), graph),
            ox.Quad(thing, label, ox.Literal(f"Ходжалы {number:02}", language="ru"), graph),
            ox.Quad(thing, RDF_TYPE, ox.NamedNode("https://schema.org/City"), graph),
        ]
        path = _update(path, store, _apply(store, removed=[], added=added), tmp_path)
    _assert_same_as_fresh(path, store, tmp_path)
    hits = SearchIndex(path).search("xocali", limit=50)
    assert [h.label for h in hits if h.tier == 1][:3] == ["Xocalı 00", "Xocalı 01", "Xocalı 02"]


def test_an_update_with_nothing_changed_keeps_every_answer(corpus_store, tmp_path: Path) -> None:
    from publisher.dataset.search_index import write_search_index

    first = tmp_path / "first"
    first.mkdir()
    previous = write_search_index(corpus_store, base=UPDATE_BASE, target=first)
    subjects = {UPDATE_BASE + "id/event/synthetic-event-0001", UPDATE_BASE + "def/Count"}
    updated = _update(previous, corpus_store, subjects, tmp_path)
    assert _table_contents(updated) == _table_contents(previous)
    with pytest.raises(ValueError, match="copy"):
        _update_in_place = __import__("publisher.dataset.search_index", fromlist=["x"])
        _update_in_place.update_search_index(
            updated, corpus_store, base=UPDATE_BASE, target=updated.parent, subjects=subjects
        )


def test_a_file_of_an_older_layout_is_written_afresh(corpus_store, tmp_path: Path) -> None:
    """A previous file whose names are not in the layout updates rely on (spaced row ids in
    the ranking order, written by an older build): the update writes the whole index."""
    from publisher.dataset.search_index import write_search_index

    first = tmp_path / "first"
    first.mkdir()
    previous = write_search_index(corpus_store, base=UPDATE_BASE, target=first)
    with sqlite3.connect(previous) as db:
        db.execute("DELETE FROM meta WHERE key = 'rowid_gap'")
        db.execute("UPDATE name SET rowid = -rowid")  # the order reversed: not trustworthy
    subjects = {UPDATE_BASE + "id/event/synthetic-event-0001"}
    updated = _update(previous, corpus_store, subjects, tmp_path)
    _assert_same_as_fresh(updated, corpus_store, tmp_path)
