"""Write dist/search.sqlite: the names of every resource, folded, in an SQLite FTS5 index.

What is indexed, for every IRI minted under the base: its labels (rdfs:label, skos:prefLabel,
schema:name, dct:title, foaf:name), its alternative labels (skos:altLabel) and the names each
source uses for it (kg:nameUsed, kept with the source's graph: a source's name is shown as
that source's, never as the thing's neutral label), in every language of the data. Serving
reads the file with publisher.textsearch (the format and the folding live there).

The store holds the union of the named graphs in its default graph by now (store/union.py):
labels and types are read from there once; only kg:nameUsed is read per named graph.

Everything written is a function of the data alone, never of the order the store returns
quads in: when two texts of one resource fold alike, the first label predicate, then the
smallest text (and for names sources use, the smallest graph) wins; names are ordered by the
full key `_order_key`. That is what lets `update_search_index` bring a previous build's file
up to date for a few changed subjects and answer every query as a fresh index would.

Row ids of ``name`` are the ranking order (publisher.textsearch reads candidates in rowid
order), spaced ROWID_GAP apart so that an update can put a new name between two old ones
without renumbering; only the order of row ids is ever read, never their values.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

import pyoxigraph as ox

from publisher.namespaces import STANDARD_PREFIXES
from publisher.textsearch import (
    ALT_LABEL,
    KIND_RANK,
    LABEL,
    NAME_USED,
    SCHEMA_VERSION,
    SEARCH_FILE,
    fold_all,
)

_NS = STANDARD_PREFIXES
LABEL_PREDICATES = (
    _NS["skos"] + "prefLabel",
    _NS["rdfs"] + "label",
    _NS["schema"] + "name",
    _NS["dct"] + "title",
    _NS["foaf"] + "name",
)
ALT_LABEL_PREDICATES = (_NS["skos"] + "altLabel",)
# The rank of each predicate naming a thing: labels by LABEL_PREDICATES' order, then altLabel.
_PREDICATE_RANK = {p: i for i, p in enumerate((*LABEL_PREDICATES, *ALT_LABEL_PREDICATES))}
RDF_TYPE = ox.NamedNode(_NS["rdf"] + "type")
DEFAULT_GRAPH = ox.DefaultGraph()
# Room between two names' row ids, for the names an update adds between two old neighbours;
# when a gap is full, the update spaces out the rows around it again (_make_room). 2**10
# costs a byte more per row id in FTS5's doclists (rowid deltas are varints).
ROWID_GAP = 1 << 10
MAX_ROWID = (1 << 63) - 1
# An update places each new name by a bisection of the row ids (some 60 point reads): past
# this many names (a hundred documents or so) writing the whole index is the quicker way.
UPDATE_MAX_NAMES = 5_000

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entity (id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE, label TEXT NOT NULL,
                     type TEXT NOT NULL, type_label TEXT NOT NULL);
CREATE TABLE entity_type (entity INTEGER NOT NULL, type TEXT NOT NULL);
CREATE TABLE class (iri TEXT PRIMARY KEY, label TEXT NOT NULL, instances INTEGER NOT NULL);
CREATE TABLE property (iri TEXT PRIMARY KEY, label TEXT NOT NULL);
CREATE TABLE name (rowid INTEGER PRIMARY KEY, entity INTEGER NOT NULL, text TEXT NOT NULL,
                   folded TEXT NOT NULL, lang TEXT NOT NULL, kind TEXT NOT NULL,
                   source TEXT NOT NULL);
-- Prefix indexes for 2 and 3 characters: what completion asks most. A one-character query
-- reads only the b-tree of whole names (name_folded), never FTS5 (publisher.textsearch).
CREATE VIRTUAL TABLE name_fts USING fts5(folded, content='name', content_rowid='rowid',
                                         tokenize='unicode61 remove_diacritics 0',
                                         prefix='2 3');
"""
# Created after the rows are in: one sort instead of a b-tree grown row by row.
INDEXES = """
CREATE INDEX name_folded ON name (folded);
CREATE INDEX name_entity ON name (entity);
CREATE INDEX entity_type_by_type ON entity_type (type, entity);
CREATE INDEX entity_type_by_entity ON entity_type (entity);
"""
_PRAGMAS = "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"

# A label as read: (rank of its predicate, text, language).
Label = tuple[int, str, str]
# A name as read: (IRI, kind, text, language, source graph or "", rank of its predicate).
RawName = tuple[str, str, str, str, str, int]
# A name as indexed: (IRI, folded, kind, language) -> (rank, text, source).
Names = dict[tuple[str, str, str, str], tuple[int, str, str]]


def local_name(iri: str) -> str:
    """The last segment of an IRI, in words: schema:PressRelease -> "Press release"."""
    name = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or iri
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).split(" ")
    return " ".join([words[0], *(w.lower() for w in words[1:])])


def _literal_label(
    found: list[Label] | None, preferred: tuple[str, ...] = ("en", "")
) -> str | None:
    """The label to show: English, else language-less, else the smallest language tag; within
    one language the first predicate of LABEL_PREDICATES, then the smallest text."""
    if not found:
        return None
    if len(found) == 1:
        return found[0][1]
    for language in preferred:
        texts = [(rank, text) for rank, text, lang in found if lang == language]
        if texts:
            return min(texts)[1]
    return min(found, key=lambda label: (label[2], label[0], label[1]))[1]


def _class_label(found: list[Label] | None, iri: str) -> str:
    return _literal_label(found) or local_name(iri)


def _shown_class_rank(cls: str, base: str, counts: dict[str, int]) -> tuple[int, int, str]:
    """The class a hit shows: the project's own classes first, then schema.org's, then the
    rest; among those the most specific (the one with the fewest instances)."""
    family = 0 if cls.startswith(base) else 1 if cls.startswith(_NS["schema"]) else 2
    return family, counts.get(cls, 0), cls


def _shown_class(types: list[str], base: str, counts: dict[str, int]) -> str:
    if len(types) < 2:
        return types[0] if types else ""
    return min(types, key=lambda t: _shown_class_rank(t, base, counts))


def _order_key(iri: str, folded: str, kind: str, lang: str) -> tuple[int, int, str, str, str]:
    """The ranking order of names, which row ids follow: labels before alternative labels
    before the names sources use, shorter before longer, then the rest of the row's key."""
    return KIND_RANK[kind], len(folded), folded, iri, lang


def _index_names(raw: list[RawName]) -> Names:
    """One row per (IRI, folded text, kind, language): of texts folding alike, the one of the
    first predicate, then the smallest text, then the smallest source graph."""
    names: Names = {}
    folded_texts = fold_all([name[2] for name in raw])
    for (iri, kind, text, lang, source, rank), folded in zip(raw, folded_texts, strict=True):
        if not folded:
            continue
        key = (iri, folded, kind, lang)
        value = (rank, text, source)
        known = names.get(key)
        if known is None or value < known:
            names[key] = value
    return names


def _is_named(term: object) -> bool:
    return type(term) is ox.NamedNode


def _read_all(
    store: ox.Store, base: str
) -> tuple[dict[str, list[Label]], list[RawName], dict[str, list[str]]]:
    """Every IRI's labels, the names of every IRI under `base`, and their classes."""
    labels: dict[str, list[Label]] = defaultdict(list)
    raw: list[RawName] = []
    for predicate, rank in _PREDICATE_RANK.items():
        is_label = rank < len(LABEL_PREDICATES)
        kind = LABEL if is_label else ALT_LABEL
        for quad in store.quads_for_pattern(None, ox.NamedNode(predicate), None, DEFAULT_GRAPH):
            subject, value = quad.subject, quad.object
            if type(subject) is not ox.NamedNode or type(value) is not ox.Literal:
                continue
            iri, text, lang = subject.value, value.value, value.language or ""
            if is_label:
                labels[iri].append((rank, text, lang))
            if iri.startswith(base):
                raw.append((iri, kind, text, lang, "", rank))

    name_used = ox.NamedNode(base + "def/nameUsed")
    for quad in store.quads_for_pattern(None, name_used, None, None):
        subject, value, graph = quad.subject, quad.object, quad.graph_name
        if (
            type(graph) is ox.NamedNode
            and type(subject) is ox.NamedNode
            and type(value) is ox.Literal
            and subject.value.startswith(base)
        ):
            raw.append(
                (subject.value, NAME_USED, value.value, value.language or "", graph.value, 0)
            )

    types: dict[str, list[str]] = defaultdict(list)
    for quad in store.quads_for_pattern(None, RDF_TYPE, None, DEFAULT_GRAPH):
        subject, cls = quad.subject, quad.object
        if type(subject) is ox.NamedNode and type(cls) is ox.NamedNode:
            iri = subject.value
            if iri.startswith(base):
                types[iri].append(cls.value)
    return labels, raw, types


def write_search_index(store: ox.Store, *, base: str, target: Path) -> Path:
    """Index the names of every resource under `base`; returns the file written."""
    labels, raw, types = _read_all(store, base)
    names = _index_names(raw)
    del raw  # half a million tuples at 10,000 documents: not kept through the writing
    predicates = sorted(
        {
            row["p"].value
            for row in store.query("SELECT DISTINCT ?p WHERE { ?s ?p ?o }")
            if _is_named(row["p"])
        }
    )

    path = target / SEARCH_FILE
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    try:
        # A larger page cache for the bulk insert and the index sorts (2 MB by default).
        connection.executescript(
            _PRAGMAS + " PRAGMA page_size = 8192; PRAGMA cache_size = -131072;"
        )
        connection.executescript(SCHEMA)
        _fill(
            connection,
            names=names,
            labels=labels,
            types=types,
            predicates=predicates,
            base=base,
        )
        connection.executescript(INDEXES)
        connection.execute("INSERT INTO name_fts (name_fts) VALUES ('optimize')")
        connection.execute("INSERT INTO name_fts (name_fts, rank) VALUES ('automerge', 4)")
        connection.commit()
    finally:
        connection.close()
    return path


def _fill(
    connection: sqlite3.Connection,
    *,
    names: Names,
    labels: dict[str, list[Label]],
    types: dict[str, list[str]],
    predicates: list[str],
    base: str,
) -> None:
    type_counts: dict[str, int] = defaultdict(int)  # of every typed IRI under the base
    for its_types in types.values():
        for cls in set(its_types):
            type_counts[cls] += 1
    entities = {iri: number for number, iri in enumerate(sorted({key[0] for key in names}), 1)}
    entity_rows = []
    type_rows = []
    instances: dict[str, int] = defaultdict(int)  # of the indexed IRIs only
    class_labels: dict[str, str] = {}
    for iri, entity_id in entities.items():
        its_types = types.get(iri, [])
        if len(its_types) > 1:
            its_types = sorted(set(its_types))
        shown = _shown_class(its_types, base, type_counts)
        for cls in its_types:
            type_rows.append((entity_id, cls))
            instances[cls] += 1
            if cls not in class_labels:
                class_labels[cls] = _class_label(labels.get(cls), cls)
        entity_rows.append(
            (
                entity_id,
                iri,
                _literal_label(labels.get(iri)) or local_name(iri),
                shown,
                class_labels[shown] if shown else "",
            )
        )
    # Best names first (see publisher.textsearch): the rowid order is the ranking's first cut.
    # Sorted by _order_key: tuples that start with it, compared without a key function.
    ordered = sorted(
        [
            (KIND_RANK[kind], len(folded), folded, iri, lang, kind, text, source)
            for (iri, folded, kind, lang), (_rank, text, source) in names.items()
        ]
    )
    name_rows = [
        (number * ROWID_GAP, entities[iri], text, folded, lang, kind, source)
        for number, (_k, _n, folded, iri, lang, kind, text, source) in enumerate(ordered, 1)
    ]
    del ordered
    connection.executemany("INSERT INTO entity VALUES (?, ?, ?, ?, ?)", entity_rows)
    connection.executemany("INSERT INTO entity_type VALUES (?, ?)", type_rows)
    connection.executemany(
        "INSERT INTO class VALUES (?, ?, ?)",
        [(cls, class_labels[cls], n) for cls, n in sorted(instances.items())],
    )
    connection.executemany(
        "INSERT INTO property VALUES (?, ?)",
        [(p, _class_label(labels.get(p), p)) for p in predicates],
    )
    connection.executemany("INSERT INTO name VALUES (?, ?, ?, ?, ?, ?, ?)", name_rows)
    # One FTS5 merge at the end ('optimize') instead of merges all along the bulk insert
    # (a third of its time at 10,000 documents); updates merge as usual afterwards.
    connection.execute("INSERT INTO name_fts (name_fts, rank) VALUES ('automerge', 0)")
    connection.execute("INSERT INTO name_fts (rowid, folded) SELECT rowid, folded FROM name")
    connection.execute("INSERT INTO meta VALUES ('version', ?)", (str(SCHEMA_VERSION),))
    # The layout update_search_index relies on: names in _order_key order, spaced row ids.
    connection.execute("INSERT INTO meta VALUES ('rowid_gap', ?)", (str(ROWID_GAP),))


class _WriteAfresh(Exception):
    """The previous file cannot be updated (an older layout, or no row ids left between two
    names for the names an update adds: never in practice): the index is written whole."""


def update_search_index(
    previous: Path,
    store: ox.Store,
    *,
    base: str,
    target: Path,
    subjects: Collection[str],
    copied: Path | None = None,
) -> Path:
    """`previous` (a build's search.sqlite) copied into `target` and brought up to date with
    `store` for `subjects`: the IRIs whose triples changed in some graph (every subject of
    every quad the change added or removed). The file answers every query as
    `write_search_index(store, base=base, target=target)` would: the same rows in every
    table, row ids in the same order. A file of an older layout is written afresh.

    A blank node among `subjects` is given as "_:" + its id; only the predicates of its
    triples matter here (the property table), as blank nodes are never indexed. `copied`: a
    copy of `previous` made already (the build copies it while it validates), moved into
    place instead of copying again."""
    path = target / SEARCH_FILE
    if path.resolve() == previous.resolve():
        raise ValueError(f"{path}: the update writes a copy, not the previous file itself")
    path.unlink(missing_ok=True)
    if copied is not None:
        os.replace(copied, path)
    else:
        shutil.copyfile(previous, path)
    try:
        connection = sqlite3.connect(path)
        try:
            connection.executescript(_PRAGMAS)
            layout = connection.execute("SELECT value FROM meta WHERE key = 'rowid_gap'").fetchone()
            if layout is None or layout[0] != str(ROWID_GAP):
                raise _WriteAfresh(f"{previous}: written by an older build")
            _Update(connection, store, base=base).run(subjects)
            connection.commit()
        finally:
            connection.close()
    except _WriteAfresh:
        return write_search_index(store, base=base, target=target)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


_ROW_AT_OR_AFTER = """
SELECT n.rowid, e.iri, n.folded, n.kind, n.lang FROM name AS n JOIN entity AS e ON e.id = n.entity
WHERE n.rowid >= ? AND n.rowid < ? ORDER BY n.rowid LIMIT 1
"""


class _Update:
    """One update of a copied index for a set of changed subjects (update_search_index)."""

    def __init__(self, connection: sqlite3.Connection, store: ox.Store, *, base: str) -> None:
        self.db = connection
        self.store = store
        self.base = base

    def run(self, subjects: Collection[str]) -> None:
        changed = set(subjects)
        labels, raw, types, predicates = self._read(changed)
        names = _index_names(raw)
        if len(names) > UPDATE_MAX_NAMES:
            raise _WriteAfresh(f"{len(names)} names to place")
        entity_ids = self._replace_entities(changed, names, labels, types)
        self._place_names(names, entity_ids)
        class_labels = self._update_classes(changed, labels)
        self._update_shown_classes(set(entity_ids.values()), class_labels)
        self._update_properties(changed, predicates, labels)

    def _read(
        self, subjects: set[str]
    ) -> tuple[dict[str, list[Label]], list[RawName], dict[str, list[str]], set[str]]:
        """What the store now says about the subjects: their labels, their names (for IRIs
        under the base), their classes, and the predicates of their default-graph triples."""
        labels: dict[str, list[Label]] = {}
        raw: list[RawName] = []
        types: dict[str, list[str]] = {}
        predicates: set[str] = set()
        name_used, rdf_type = self.base + "def/nameUsed", RDF_TYPE.value
        for subject in sorted(subjects):
            if subject.startswith("_:"):  # a blank node: only its predicates matter here
                node: ox.NamedNode | ox.BlankNode = ox.BlankNode(subject[2:])
            else:
                node = ox.NamedNode(subject)
            indexed = type(node) is ox.NamedNode and subject.startswith(self.base)
            found: list[Label] = []
            for quad in self.store.quads_for_pattern(node, None, None, None):
                predicate, value, graph = quad.predicate.value, quad.object, quad.graph_name
                if type(graph) is ox.DefaultGraph:
                    predicates.add(predicate)
                    rank = _PREDICATE_RANK.get(predicate)
                    if rank is not None and type(value) is ox.Literal:
                        text, lang = value.value, value.language or ""
                        is_label = rank < len(LABEL_PREDICATES)
                        if is_label:
                            found.append((rank, text, lang))
                        if indexed:
                            raw.append(
                                (subject, LABEL if is_label else ALT_LABEL, text, lang, "", rank)
                            )
                    elif predicate == rdf_type and indexed and type(value) is ox.NamedNode:
                        types.setdefault(subject, []).append(value.value)
                elif (
                    predicate == name_used
                    and indexed
                    and type(value) is ox.Literal
                    and type(graph) is ox.NamedNode
                ):
                    raw.append(
                        (subject, NAME_USED, value.value, value.language or "", graph.value, 0)
                    )
            labels[subject] = found
        return labels, raw, types, predicates

    def _replace_entities(
        self,
        subjects: set[str],
        names: Names,
        labels: dict[str, list[Label]],
        types: dict[str, list[str]],
    ) -> dict[str, int]:
        """Drop the subjects' old rows (names, their FTS entries, classes); write their entity
        rows anew. Returns the ids of the subjects that have names now."""
        db = self.db
        named = {key[0] for key in names}
        next_id = (db.execute("SELECT MAX(id) FROM entity").fetchone()[0] or 0) + 1
        ids: dict[str, int] = {}
        for iri in sorted(s for s in subjects if s.startswith(self.base)):
            row = db.execute("SELECT id FROM entity WHERE iri = ?", (iri,)).fetchone()
            if row is not None:
                old = row[0]
                db.executemany(
                    "INSERT INTO name_fts (name_fts, rowid, folded) VALUES ('delete', ?, ?)",
                    db.execute(
                        "SELECT rowid, folded FROM name WHERE entity = ?", (old,)
                    ).fetchall(),
                )
                db.execute("DELETE FROM name WHERE entity = ?", (old,))
                db.execute("DELETE FROM entity_type WHERE entity = ?", (old,))
                if iri not in named:
                    db.execute("DELETE FROM entity WHERE id = ?", (old,))
                    continue
            if iri not in named:
                continue
            if row is None:
                entity_id, next_id = next_id, next_id + 1
            else:
                entity_id = row[0]
            ids[iri] = entity_id
            label = _literal_label(labels.get(iri)) or local_name(iri)
            db.execute(
                "INSERT OR REPLACE INTO entity VALUES (?, ?, ?, '', '')", (entity_id, iri, label)
            )
            db.executemany(
                "INSERT INTO entity_type VALUES (?, ?)",
                [(entity_id, cls) for cls in sorted(set(types.get(iri, ())))],
            )
        return ids

    def _place_names(self, names: Names, entity_ids: dict[str, int]) -> None:
        """Insert the new names with row ids between those of their neighbours in the
        ranking order (_order_key), as a fresh build would order them."""
        pending = sorted(names, key=lambda key: _order_key(*key))
        rows = []
        while pending:
            low, high, high_key = self._neighbours(_order_key(*pending[0]))
            count = 0
            while count < len(pending) and (
                high_key is None or _order_key(*pending[count]) < high_key
            ):
                count += 1
            if high_key is None:  # after the last name: room without limit (almost)
                high = min(MAX_ROWID, low + (count + 1) * ROWID_GAP)
            step = (high - low) // (count + 1)
            if step < 1:
                low, step = self._make_room(low, high, count)
            group, pending = pending[:count], pending[count:]
            for number, key in enumerate(group, 1):
                iri, folded, kind, lang = key
                _rank, text, source = names[key]
                rows.append(
                    (low + number * step, entity_ids[iri], text, folded, lang, kind, source)
                )
            # Inserted now: the next group's neighbours may be among them.
            self.db.executemany("INSERT INTO name VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self.db.executemany(
                "INSERT INTO name_fts (rowid, folded) VALUES (?, ?)",
                [(row[0], row[3]) for row in rows],
            )
            rows = []

    def _row_key(self, row: tuple) -> tuple[int, int, str, str, str]:
        _rowid, iri, folded, kind, lang = row
        return _order_key(iri, folded, kind, lang)

    def _neighbours(self, key: tuple) -> tuple[int, int, tuple | None]:
        """The row ids of the names just before and just after `key` in the ranking order
        (0 when none is before; the row id bound and None when none is after), and the key
        of the one after. Bisects the row id space: rows are in ranking order by row id."""
        low, high = 0, MAX_ROWID
        while high - low > 1:
            middle = (low + high) // 2
            row = self.db.execute(_ROW_AT_OR_AFTER, (middle, high)).fetchone()
            if row is None or self._row_key(row) > key:
                high = middle
            else:
                low = row[0]
        after = self.db.execute(_ROW_AT_OR_AFTER, (low + 1, MAX_ROWID)).fetchone()
        if after is None:
            return low, MAX_ROWID, None
        return low, after[0], self._row_key(after)

    def _make_room(self, low: int, high: int, count: int) -> tuple[int, int]:
        """Space out the names around the gap (low, high) so that `count` new ones fit;
        returns the new row id just before the gap and the step to place them with."""
        db = self.db
        radius = ROWID_GAP
        while True:
            start, end = max(1, low - radius), min(MAX_ROWID, high + radius)
            (existing,) = db.execute(
                "SELECT COUNT(*) FROM name WHERE rowid BETWEEN ? AND ?", (start, end)
            ).fetchone()
            if (end - start) // (existing + count + 1) >= ROWID_GAP // 2:
                break
            if start == 1 and end == MAX_ROWID:
                raise _WriteAfresh("no row ids left")
            radius *= 2
        moved = db.execute(
            "SELECT rowid, folded FROM name WHERE rowid BETWEEN ? AND ? ORDER BY rowid",
            (start, end),
        ).fetchall()
        step = (end - start) // (existing + count + 1)
        slots = [start + i * step for i in range(1, existing + count + 1)]
        before = sum(1 for rowid, _ in moved if rowid <= low)
        renumbered = dict(
            zip(
                [rowid for rowid, _ in moved],
                slots[:before] + slots[before + count :],
                strict=True,
            )
        )
        db.executemany(
            "INSERT INTO name_fts (name_fts, rowid, folded) VALUES ('delete', ?, ?)", moved
        )
        # Through negative row ids: a new row id may be an old one of the window.
        db.execute("UPDATE name SET rowid = -rowid WHERE rowid BETWEEN ? AND ?", (start, end))
        db.executemany(
            "UPDATE name SET rowid = ? WHERE rowid = ?",
            [(new, -old) for old, new in renumbered.items()],
        )
        db.executemany(
            "INSERT INTO name_fts (rowid, folded) VALUES (?, ?)",
            [(renumbered[rowid], folded) for rowid, folded in moved],
        )
        low = slots[before - 1] if before else start
        return low, step

    def _labels_of(self, iri: str, labels: dict[str, list[Label]]) -> list[Label]:
        if iri in labels:
            return labels[iri]
        node = ox.NamedNode(iri)
        return [
            (rank, quad.object.value, quad.object.language or "")
            for predicate, rank in _PREDICATE_RANK.items()
            if rank < len(LABEL_PREDICATES)
            for quad in self.store.quads_for_pattern(
                node, ox.NamedNode(predicate), None, DEFAULT_GRAPH
            )
            if type(quad.object) is ox.Literal
        ]

    def _update_classes(self, subjects: set[str], labels: dict[str, list[Label]]) -> dict[str, str]:
        """The class table recounted (a GROUP BY over entity_type), with a label read anew for
        classes that changed or are new. Returns every class's label."""
        db = self.db
        old = dict(db.execute("SELECT iri, label FROM class"))
        counts = db.execute("SELECT type, COUNT(*) FROM entity_type GROUP BY type").fetchall()
        class_labels = {
            cls: old[cls]
            if cls in old and cls not in subjects
            else _class_label(self._labels_of(cls, labels), cls)
            for cls, _n in counts
        }
        db.execute("DELETE FROM class")
        db.executemany(
            "INSERT INTO class VALUES (?, ?, ?)", [(c, class_labels[c], n) for c, n in counts]
        )
        for cls, label in class_labels.items():
            if cls in old and old[cls] != label:
                db.execute("UPDATE entity SET type_label = ? WHERE type = ?", (label, cls))
        return class_labels

    def _update_shown_classes(self, entities: set[int], class_labels: dict[str, str]) -> None:
        """The class each hit shows, for the changed entities and for every entity with more
        than one class (the choice among those depends on counts over the whole data)."""
        db = self.db
        several = db.execute(
            "SELECT entity, type FROM entity_type WHERE entity IN "
            "(SELECT entity FROM entity_type GROUP BY entity HAVING COUNT(*) > 1)"
        ).fetchall()
        placeholders = ",".join("?" * len(entities))
        single = db.execute(
            f"SELECT id, (SELECT type FROM entity_type WHERE entity = id) FROM entity "
            f"WHERE id IN ({placeholders})",
            sorted(entities),
        ).fetchall()
        types: dict[int, list[str]] = defaultdict(list)
        for entity, cls in several:
            types[entity].append(cls)
        counts = {cls: self._instances(cls) for cls in {cls for _e, cls in several}}
        rows = []
        for entity, its_types in types.items():
            shown = _shown_class(sorted(its_types), self.base, counts)
            rows.append((shown, class_labels[shown], entity))
        for entity, cls in single:
            if entity not in types:
                rows.append((cls or "", class_labels[cls] if cls else "", entity))
        db.executemany("UPDATE entity SET type = ?, type_label = ? WHERE id = ?", rows)

    def _instances(self, cls: str) -> int:
        """How many IRIs under the base have the class (with a name or not), as the full
        build counts them."""
        base = self.base
        return sum(
            1
            for quad in self.store.quads_for_pattern(
                None, RDF_TYPE, ox.NamedNode(cls), DEFAULT_GRAPH
            )
            if type(quad.subject) is ox.NamedNode and quad.subject.value.startswith(base)
        )

    def _update_properties(
        self, subjects: set[str], predicates: set[str], labels: dict[str, list[Label]]
    ) -> None:
        """Every predicate of the data: the old ones still used, and those of the changed
        subjects' triples (a predicate new to the data comes with a triple added)."""
        db = self.db
        old = dict(db.execute("SELECT iri, label FROM property"))
        used = {
            p
            for p in old
            if next(
                iter(self.store.quads_for_pattern(None, ox.NamedNode(p), None, DEFAULT_GRAPH)), None
            )
            is not None
        }
        rows = [
            (
                p,
                old[p]
                if p in old and p not in subjects
                else _class_label(self._labels_of(p, labels), p),
            )
            for p in sorted(used | predicates)
        ]
        db.execute("DELETE FROM property")
        db.executemany("INSERT INTO property VALUES (?, ?)", rows)
