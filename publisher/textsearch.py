"""The search index: its file, its text folding, and the reader serving uses.

The builder (publisher.dataset.search_index) writes ``dist/search.sqlite``; the web tier
(/search, /reconcile) reads it with the standard library's sqlite3 and never the store, so
search works the same over the embedded and the remote store. Both sides fold text with
`fold` from here, so a query and the names it should find are always folded alike.

The file: table ``entity`` (one row per resource: IRI, display label, type), ``entity_type``
(every rdf:type of it), ``name`` (every name: the folded text, the text as written, its
language, its kind, the source graph for a source's own names) and ``name_fts``, an FTS5
index over the folded names. Rows of ``name`` are written best first (labels before
alternative labels before the names sources use, shorter before longer), so the first
matches FTS5 returns in rowid order are already the likely best: a short prefix that matches
a million names costs a bounded read, not a sort of them all.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

SEARCH_FILE = "search.sqlite"
SCHEMA_VERSION = 1

# The kinds of names, best first: the rank of a name of that kind among equal matches.
LABEL, ALT_LABEL, NAME_USED = "label", "altLabel", "nameUsed"
KIND_RANK = {LABEL: 0, ALT_LABEL: 1, NAME_USED: 2}

# Letters whose folding NFKD does not do (they carry no combining mark to strip): Turkish and
# Azerbaijani dotless ı (İ decomposes to I + a combining dot, which is stripped), Azerbaijani
# ə (typed as "e" on keyboards without it), and a few Latin letters with a stroke.
_EXTRA_FOLDS = {
    "ı": "i",
    "ə": "e",
    "Ə": "e",
    "ø": "o",
    "Ø": "o",
    "ł": "l",
    "Ł": "l",
    "đ": "d",
    "Đ": "d",
    "ħ": "h",
    "æ": "ae",
    "Æ": "ae",
    "œ": "oe",
    "Œ": "oe",
}
# One regex pass (str.translate with a dict looks up every character: far slower).
_EXTRA = re.compile("[" + "".join(_EXTRA_FOLDS) + "]")


def _extra_folds(text: str) -> str:
    return _EXTRA.sub(lambda found: _EXTRA_FOLDS[found.group()], text)


_NOT_WORD = re.compile(r"[\W_]+")


def _mark_ranges() -> str:
    """The combining marks of the Basic Multilingual Plane as a regex character class."""
    marks = [c for c in range(0x10000) if unicodedata.combining(chr(c))]
    ranges, start = [], marks[0]
    for previous, current in zip(marks, [*marks[1:], -1], strict=True):
        if current != previous + 1:
            ranges.append(f"\\u{start:04x}-\\u{previous:04x}")
            start = current
    return "[" + "".join(ranges) + "]+"


# What "if not unicodedata.combining(c)" does character by character, in one regex pass;
# marks outside the BMP (rare) take the slow path.
_MARKS = re.compile(_mark_ranges())
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lowercase, without accents, words separated by single spaces.

    "Xocalı" -> "xocali", "Ходжалы" -> "ходжалы", "États-Unis" -> "etats unis". Scripts are
    kept (no transliteration): Cyrillic is found by Cyrillic. Cached: the labels of shared
    things repeat across a corpus, and a build folds every name once more per repetition.
    """
    if text.isascii():  # the common case, and the fast path
        return _NOT_WORD.sub(" ", text.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", _extra_folds(text))
    lowered = _extra_folds(_MARKS.sub("", decomposed).casefold())
    if _ASTRAL.search(lowered):
        lowered = "".join(c for c in lowered if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", lowered).strip()


# fold_all joins texts with a character no name holds (a text holding it is folded alone):
# NUL is a starter that is not a word character, so NFKD, casefold and the mark removal never
# cross it. The ASCII characters that are not letters or digits become spaces in one
# bytes.translate (UTF-8 keeps every byte of a non-ASCII character >= 0x80).
_SEPARATOR = "\x00"
_ASCII_NOT_WORD = bytes(
    c if c == 0 or (c < 128 and chr(c).isalnum()) else 32 if c < 128 else c for c in range(256)
)
# Punctuation outside ASCII that names often hold (quotes, dashes), replaced by a substring scan
# each: the texts still holding a non-word character after these take the regex.
_COMMON_PUNCTUATION = "«»„“”‘’‚‹›—–‐‑…·•№"


def fold_all(texts: list[str]) -> list[str]:
    """[fold(text) for text in texts], by a few passes over their concatenation instead of a
    dozen regex calls per text (Python's re costs about 80 ns a character; the index build
    folds every name of the dataset)."""
    distinct = dict.fromkeys(texts)
    plain = [t for t in distinct if t.isascii() and _SEPARATOR not in t]
    other = [t for t in distinct if not t.isascii() and _SEPARATOR not in t]
    folded = {t: fold(t) for t in distinct if _SEPARATOR in t}
    if plain:
        folded.update(zip(plain, _words(_SEPARATOR.join(plain).lower()), strict=True))
    if other:
        joined = _replace_extra(_SEPARATOR.join(other))
        lowered = _replace_extra(_MARKS.sub("", unicodedata.normalize("NFKD", joined)).casefold())
        if _ASTRAL.search(lowered):  # as in fold: only for the texts that have one
            lowered = _SEPARATOR.join(
                "".join(c for c in part if not unicodedata.combining(c))
                if _ASTRAL.search(part)
                else part
                for part in lowered.split(_SEPARATOR)
            )
        folded.update(zip(other, _words(lowered), strict=True))
    return [folded[t] for t in texts]


def _replace_extra(text: str) -> str:
    """_extra_folds for a long text: a substring scan per letter, a replace when present."""
    for letter, replacement in _EXTRA_FOLDS.items():
        if letter in text:
            text = text.replace(letter, replacement)
    return text


def _words(joined: str) -> list[str]:
    """`_NOT_WORD.sub(" ", part).strip()` of every part of `joined` (lowered already)."""
    for mark in _COMMON_PUNCTUATION:
        if mark in joined:
            joined = joined.replace(mark, " ")
    spaced = joined.encode("utf-8", "surrogatepass").translate(_ASCII_NOT_WORD)
    words = []
    for part in spaced.decode("utf-8", "surrogatepass").split(_SEPARATOR):
        found = " ".join(part.split())  # every whitespace character is a non-word one
        if found and not found.replace(" ", "").isalnum():  # \w is isalnum() or "_"
            found = _NOT_WORD.sub(" ", found).strip()  # punctuation outside ASCII
        words.append(found)
    return words


MAX_QUERY_WORDS = 12


def match_expression(folded_query: str) -> str:
    """An FTS5 MATCH expression: every word of the query as a quoted prefix, all required.

    Words are quoted (a quote inside doubled), so nothing the user types is read as FTS5
    syntax (AND, OR, NOT, NEAR, column filters, ``*``, ``^``). `fold` has already removed
    everything but letters, digits and spaces; the quoting is the second guard.
    """
    words = folded_query.split()[:MAX_QUERY_WORDS]
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


@dataclass(frozen=True)
class Hit:
    """One resource found: the best of its names for the query."""

    iri: str
    label: str  # the resource's label (in the matched name's language when it has one)
    lang: str  # the language of the matched name ("" when it has none)
    type: str  # the label of its class
    type_iri: str
    match: str  # the name that matched, as written in the data
    kind: str  # label, altLabel or nameUsed
    source: str  # for a name a source uses: that source's graph; else ""
    tier: int  # 0 exact name, 1 the name starts with the query, 2 words start with it
    score: float  # 0..100, higher is better


# How many candidate names one query reads at most, before ranking (a bound on its cost).
CANDIDATES = 200

_COLUMNS = "n.rowid, n.entity, n.text, n.folded, n.lang, n.kind, n.source, e.iri"
_CANDIDATE_SQL = f"""
SELECT {_COLUMNS} FROM name_fts JOIN name AS n ON n.rowid = name_fts.rowid
JOIN entity AS e ON e.id = n.entity
WHERE name_fts MATCH ? ORDER BY name_fts.rowid LIMIT ?
"""
_EXACT_SQL = (
    f"SELECT {_COLUMNS} FROM name AS n JOIN entity AS e ON e.id = n.entity WHERE folded = ?"
)
_PREFIX_SQL = f"""
SELECT {_COLUMNS} FROM name AS n JOIN entity AS e ON e.id = n.entity
WHERE n.folded >= ? AND n.folded < ? ORDER BY n.folded LIMIT ?
"""


def score_of(tier: int, kind: str, query: str, name: str) -> float:
    """0..100: exact label 100, exact alternative 95, a source's exact name 90; prefixes and
    word matches scaled by how much of the name the query covers."""
    if tier == 0:
        return 100.0 - 5 * KIND_RANK[kind]
    coverage = min(len(query) / max(len(name), 1), 1.0)
    top = 80.0 if tier == 1 else 60.0
    return round(top * (0.5 + 0.5 * coverage) - 3 * KIND_RANK[kind], 1)


class SearchIndex:
    """A read-only search index file, one sqlite3 connection per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        connection = self._connection()  # fails here, at open, when the file is not an index
        version = connection.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        if version is None or int(version[0]) != SCHEMA_VERSION:
            raise ValueError(f"{path}: search index version {version}, expected {SCHEMA_VERSION}")

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            # immutable: a build's files never change (a new build is a new directory), so
            # no locking and no journal lookups.
            uri = self.path.resolve().as_uri() + "?mode=ro&immutable=1"
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.connection = connection
        return connection

    def search(
        self,
        query: str,
        *,
        limit: int,
        offset: int = 0,
        types: frozenset[str] = frozenset(),
        within: str = "",
    ) -> list[Hit]:
        """The best `limit` resources for `query` (after `offset`), best first; with `types`,
        only resources of one of those class IRIs; with `within`, only IRIs starting so."""
        folded = fold(query)
        if not folded:
            return []
        connection = self._connection()
        rows = list(connection.execute(_EXACT_SQL, (folded,)))
        rows += connection.execute(_PREFIX_SQL, (folded, folded + "\U0010ffff", CANDIDATES))
        if len(folded) > 1:  # one letter: names starting with it, not every word that does
            rows += connection.execute(_CANDIDATE_SQL, (match_expression(folded), CANDIDATES))
        best: dict[int, tuple[tuple[int, float, int, int], tuple]] = {}
        for row in rows:
            rowid, entity, _text, name, _lang, kind, _source, iri = row
            if not iri.startswith(within):
                continue
            if name == folded:
                tier = 0
            elif name.startswith(folded):
                tier = 1
            else:
                tier = 2
            # Best first: exact, then prefix, then word matches; within a tier by score
            # (the kind of name, how much of it the query covers), then the shorter name.
            key = (tier, -score_of(tier, kind, folded, name), len(name), rowid)
            if entity not in best or key < best[entity][0]:
                best[entity] = (key, row)
        ranked = sorted(best.values(), key=lambda item: item[0])
        if types:
            allowed = self._entities_of_types([row[1] for _, row in ranked], types)
            ranked = [item for item in ranked if item[1][1] in allowed]
        return [self._hit(key, row) for key, row in ranked[offset : offset + limit]]

    def _entities_of_types(self, entities: list[int], types: frozenset[str]) -> set[int]:
        if not entities:
            return set()
        marks = ",".join("?" * len(types))
        found: set[int] = set()
        for start in range(0, len(entities), 500):
            chunk = entities[start : start + 500]
            sql = (
                f"SELECT DISTINCT entity FROM entity_type WHERE type IN ({marks}) "
                f"AND entity IN ({','.join('?' * len(chunk))})"
            )
            found.update(r[0] for r in self._connection().execute(sql, (*types, *chunk)))
        return found

    def _hit(self, key: tuple[int, float, int, int], row: tuple) -> Hit:
        _rowid, entity, text, _name, lang, kind, source, iri = row
        label, type_label, type_iri = (
            self._connection()
            .execute("SELECT label, type_label, type FROM entity WHERE id = ?", (entity,))
            .fetchone()
        )
        if kind == LABEL:
            label = text  # the label in the language the reader typed
        return Hit(
            iri=iri,
            label=label,
            lang=lang,
            type=type_label,
            type_iri=type_iri,
            match=text,
            kind=kind,
            source=source,
            tier=key[0],
            score=-key[1],
        )

    def entity(self, iri: str) -> tuple[str, str, str] | None:
        """(label, type label, type IRI) of an indexed resource, or None."""
        row = (
            self._connection()
            .execute("SELECT label, type_label, type FROM entity WHERE iri = ?", (iri,))
            .fetchone()
        )
        return None if row is None else (row[0], row[1], row[2])

    def types_of(self, iri: str) -> list[str]:
        return [
            r[0]
            for r in self._connection().execute(
                "SELECT t.type FROM entity_type AS t JOIN entity AS e ON e.id = t.entity "
                "WHERE e.iri = ? ORDER BY t.type",
                (iri,),
            )
        ]

    def names_of(self, iri: str) -> list[tuple[str, str, str, str]]:
        """(text, language, kind, source graph) of every indexed name of a resource."""
        return [
            (r[0], r[1], r[2], r[3])
            for r in self._connection().execute(
                "SELECT n.text, n.lang, n.kind, n.source FROM name AS n "
                "JOIN entity AS e ON e.id = n.entity WHERE e.iri = ? ORDER BY n.rowid",
                (iri,),
            )
        ]

    def classes(self, *, within: str = "") -> list[tuple[str, str, int]]:
        """(class IRI, its label, how many indexed resources under `within` have it), most
        used first."""
        return [
            (r[0], r[1], r[2])
            for r in self._connection().execute(
                "SELECT t.type, c.label, COUNT(*) AS n FROM entity_type AS t "
                "JOIN entity AS e ON e.id = t.entity JOIN class AS c ON c.iri = t.type "
                "WHERE e.iri >= ? AND e.iri < ? GROUP BY t.type ORDER BY n DESC, t.type",
                (within, within + "\U0010ffff"),
            )
        ]

    def class_label(self, iri: str) -> str:
        """The label of a class (its local name when the data has none), or the IRI."""
        row = self._connection().execute("SELECT label FROM class WHERE iri = ?", (iri,)).fetchone()
        return row[0] if row else iri

    def properties(self) -> list[tuple[str, str]]:
        """(property IRI, its label) of every predicate in the data."""
        return [
            (r[0], r[1])
            for r in self._connection().execute("SELECT iri, label FROM property ORDER BY iri")
        ]
