"""Write dist/search.sqlite: the names of every resource, folded, in an SQLite FTS5 index.

What is indexed, for every IRI minted under the base: its labels (rdfs:label, skos:prefLabel,
schema:name, dct:title, foaf:name), its alternative labels (skos:altLabel) and the names each
source uses for it (kg:nameUsed, kept with the source's graph: a source's name is shown as
that source's, never as the thing's neutral label), in every language of the data. Serving
reads the file with publisher.textsearch (the format and the folding live there).

The store holds the union of the named graphs in its default graph by now (store/union.py):
labels and types are read from there once; only kg:nameUsed is read per named graph.
"""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
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
    fold,
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
RDF_TYPE = ox.NamedNode(_NS["rdf"] + "type")
DEFAULT_GRAPH = ox.DefaultGraph()

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
CREATE INDEX entity_type_by_type ON entity_type (type, entity);
CREATE INDEX entity_type_by_entity ON entity_type (entity);
"""


def _literal_label(
    labels: dict[str, list[tuple[str, str]]], iri: str, preferred: tuple[str, ...] = ("en", "")
) -> str | None:
    found = labels.get(iri)
    if not found:
        return None
    # In code point order where a language has several: not the order the store gives.
    for language in preferred:
        for text, lang in sorted(found):
            if lang == language:
                return text
    return sorted(found, key=lambda item: (item[1], item[0]))[0][0]


def local_name(iri: str) -> str:
    """The last segment of an IRI, in words: schema:PressRelease -> "Press release"."""
    name = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or iri
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).split(" ")
    return " ".join([words[0], *(w.lower() for w in words[1:])])


def _shown_class_rank(cls: str, base: str, counts: dict[str, int]) -> tuple[int, int, str]:
    """The class a hit shows: the project's own classes first, then schema.org's, then the
    rest; among those the most specific (the one with the fewest instances)."""
    family = 0 if cls.startswith(base) else 1 if cls.startswith(_NS["schema"]) else 2
    return family, counts.get(cls, 0), cls


def write_search_index(store: ox.Store, *, base: str, target: Path) -> Path:
    """Index the names of every resource under `base`; returns the file written."""
    # names[(iri, folded, kind, lang)] -> (text, source); dict order keeps the first seen.
    names: dict[tuple[str, str, str, str], tuple[str, str]] = {}
    labels: dict[str, list[tuple[str, str]]] = defaultdict(list)  # every IRI's labels

    for predicate in (*LABEL_PREDICATES, *ALT_LABEL_PREDICATES):
        kind = LABEL if predicate in LABEL_PREDICATES else ALT_LABEL
        for quad in store.quads_for_pattern(None, ox.NamedNode(predicate), None, DEFAULT_GRAPH):
            subject, value = quad.subject, quad.object
            if not isinstance(subject, ox.NamedNode) or not isinstance(value, ox.Literal):
                continue
            lang = value.language or ""
            if kind == LABEL:
                labels[subject.value].append((value.value, lang))
            if subject.value.startswith(base):
                folded = fold(value.value)
                if folded:
                    _keep_first(names, (subject.value, folded, kind, lang), (value.value, ""))

    name_used = ox.NamedNode(base + "def/nameUsed")
    for quad in store.quads_for_pattern(None, name_used, None, None):
        subject, value, graph = quad.subject, quad.object, quad.graph_name
        if (
            isinstance(graph, ox.NamedNode)
            and isinstance(subject, ox.NamedNode)
            and isinstance(value, ox.Literal)
            and subject.value.startswith(base)
            and (folded := fold(value.value))
        ):
            key = (subject.value, folded, NAME_USED, value.language or "")
            _keep_first(names, key, (value.value, graph.value))

    types: dict[str, list[str]] = defaultdict(list)
    for quad in store.quads_for_pattern(None, RDF_TYPE, None, DEFAULT_GRAPH):
        subject, cls = quad.subject, quad.object
        if (
            isinstance(subject, ox.NamedNode)
            and isinstance(cls, ox.NamedNode)
            and subject.value.startswith(base)
        ):
            types[subject.value].append(cls.value)

    predicates = [
        row["p"].value
        for row in store.query("SELECT DISTINCT ?p WHERE { ?s ?p ?o }")
        if isinstance(row["p"], ox.NamedNode)
    ]

    path = target / SEARCH_FILE
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA page_size = 8192;"
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
        connection.commit()
    finally:
        connection.close()
    return path


def _keep_first(
    names: dict[tuple[str, str, str, str], tuple[str, str]],
    key: tuple[str, str, str, str],
    value: tuple[str, str],
) -> None:
    """Of two names that fold alike, the first in code point order (text, then source): the
    index is a function of the statements, not of the order a store gives them in."""
    current = names.get(key)
    if current is None or value < current:
        names[key] = value


def _class_label(labels: dict[str, list[tuple[str, str]]], iri: str) -> str:
    return _literal_label(labels, iri) or local_name(iri)


def _fill(
    connection: sqlite3.Connection,
    *,
    names: dict[tuple[str, str, str, str], tuple[str, str]],
    labels: dict[str, list[tuple[str, str]]],
    types: dict[str, list[str]],
    predicates: list[str],
    base: str,
) -> None:
    entities: dict[str, int] = {}
    type_counts: dict[str, int] = defaultdict(int)
    for its_types in types.values():
        for cls in set(its_types):
            type_counts[cls] += 1
    entity_rows = []
    type_rows = []
    instances: dict[str, int] = defaultdict(int)
    for iri, _folded, _kind, _lang in sorted(names):
        if iri in entities:
            continue
        entity_id = entities[iri] = len(entities) + 1
        its_types = sorted(set(types.get(iri, ())))
        shown = min(its_types, key=lambda t: _shown_class_rank(t, base, type_counts), default="")
        entity_rows.append(
            (
                entity_id,
                iri,
                _literal_label(labels, iri) or local_name(iri),
                shown,
                _class_label(labels, shown) if shown else "",
            )
        )
        for cls in its_types:
            type_rows.append((entity_id, cls))
            instances[cls] += 1
    # Best names first (see publisher.textsearch): the rowid order is the ranking's first cut.
    ordered = sorted(
        names.items(),
        key=lambda item: (KIND_RANK[item[0][2]], len(item[0][1]), item[0][1], item[0], item[1]),
    )
    name_rows = [
        (entities[iri], text, folded, lang, kind, source)
        for (iri, folded, kind, lang), (text, source) in ordered
    ]
    connection.executemany("INSERT INTO entity VALUES (?, ?, ?, ?, ?)", entity_rows)
    connection.executemany("INSERT INTO entity_type VALUES (?, ?)", type_rows)
    connection.executemany(
        "INSERT INTO class VALUES (?, ?, ?)",
        [(cls, _class_label(labels, cls), n) for cls, n in sorted(instances.items())],
    )
    connection.executemany(
        "INSERT INTO property VALUES (?, ?)",
        [(p, _class_label(labels, p)) for p in sorted(set(predicates))],
    )
    connection.executemany(
        "INSERT INTO name (entity, text, folded, lang, kind, source) VALUES (?, ?, ?, ?, ?, ?)",
        name_rows,
    )
    connection.execute("INSERT INTO name_fts (rowid, folded) SELECT rowid, folded FROM name")
    connection.execute("INSERT INTO meta VALUES ('version', ?)", (str(SCHEMA_VERSION),))
