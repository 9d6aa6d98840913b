"""Labels for people: the reader's language first (Accept-Language), then English, then any.

A node's label is chosen language-first across the label predicates (an Azerbaijani reader
gets the ``az`` rdfs:label before an English skos:prefLabel), then by predicate order. IRIs
without a label are shown as a CURIE (schema:Place) or their last path segment.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox
from flask import request

from publisher.namespaces import prefixes
from publisher.store.base import LABEL_PREDICATES, Store

FALLBACK_LANGUAGES = ("en",)
COMMENT_PREDICATES: tuple[str, ...] = (
    "http://www.w3.org/2004/02/skos/core#definition",
    "http://www.w3.org/2000/01/rdf-schema#comment",
    "https://schema.org/description",
    "http://purl.org/dc/terms/description",
)
_LABEL_RANK = {p: i for i, p in enumerate(LABEL_PREDICATES)}

# English labels of the reused vocabularies' common terms: their definitions are not in the
# dataset, and "type" reads better than "rdf:type" on a page for people.
WELL_KNOWN_LABELS: dict[str, str] = {
    "rdf:type": "type",
    "rdfs:label": "label",
    "rdfs:comment": "comment",
    "rdfs:seeAlso": "see also",
    "rdfs:subClassOf": "subclass of",
    "rdfs:subPropertyOf": "subproperty of",
    "rdfs:domain": "domain",
    "rdfs:range": "range",
    "rdfs:isDefinedBy": "defined by",
    "owl:sameAs": "same as",
    "skos:prefLabel": "preferred label",
    "skos:altLabel": "alternative label",
    "skos:exactMatch": "exact match",
    "skos:closeMatch": "close match",
    "skos:related": "related",
    "skos:definition": "definition",
    "dct:title": "title",
    "dct:description": "description",
    "dct:publisher": "publisher",
    "dct:issued": "issued",
    "dct:created": "created",
    "dct:modified": "modified",
    "dct:language": "language",
    "dct:license": "licence",
    "dct:source": "source",
    "prov:wasDerivedFrom": "derived from",
    "prov:wasAttributedTo": "attributed to",
    "prov:generatedAtTime": "generated at",
    "schema:name": "name",
    "schema:description": "description",
    "schema:location": "location",
    "schema:startDate": "start date",
    "schema:endDate": "end date",
    "schema:containedInPlace": "contained in place",
    "schema:about": "about",
    "schema:text": "text",
    "schema:value": "value",
    "schema:publisher": "publisher",
    "schema:datePublished": "date published",
    "schema:subjectOf": "subject of",
    "geo:lat": "latitude",
    "geo:long": "longitude",
    "geo:location": "location",
}


def preferred_languages() -> tuple[str, ...]:
    """The reader's languages (Accept-Language, best first, q=0 excluded) that can change
    which label is shown: only those of the data's languages, in the reader's order.

    Tags the data has no literal in are dropped and other tags of a known primary language
    become "xx-*" (they match "xx" tags the same way), so thousands of distinct headers map
    to a few preferences: the rendered-page cache is keyed on this, not on the raw header.
    """
    from publisher.web.state import served_build

    known = served_build().memo("literal_languages", _literal_languages)
    primaries = {tag.split("-")[0] for tag in known}
    tags: list[str] = []
    for tag, quality in request.accept_languages:
        tag = tag.lower()
        if quality <= 0 or tag == "*":
            continue
        if tag not in known:
            primary = tag.split("-")[0]
            if primary not in primaries:
                continue
            tag = primary + "-*"
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


LITERAL_LANGUAGES = (
    "SELECT DISTINCT (LCASE(LANG(?o)) AS ?lang) WHERE { GRAPH ?g { ?s ?p ?o } "
    'FILTER(isLiteral(?o) && LANG(?o) != "") }'
)


def _literal_languages() -> frozenset[str]:
    """Every language tag of the published literals (once per build and process)."""
    from publisher.web.state import served_build

    rows = served_build().store.query(LITERAL_LANGUAGES)
    return frozenset(row["lang"].value for row in rows)


def languages_key(languages: Sequence[str]) -> str:
    """A short stable token for a language preference, part of the HTML variant's ETag."""
    if not languages:
        return "any"
    return hashlib.sha1(",".join(languages).encode()).hexdigest()[:8]


def language_rank(tag: str, preferred: Sequence[str]) -> int:
    """0 for the best-liked language; tags without a match rank after every preference."""
    tag = tag.lower()
    primary = tag.split("-")[0]
    wanted = [*preferred, *FALLBACK_LANGUAGES]
    for index, want in enumerate(wanted):
        if tag == want:
            return 2 * index
        if primary == want.split("-")[0]:
            return 2 * index + 1  # en-GB label for an "en-US" reader: close, not exact
    return 2 * len(wanted) + (0 if not tag else 1)  # then plain literals, then any language


def best_literal(
    literals: Iterable[tuple[str, ox.Literal]], preferred: Sequence[str]
) -> ox.Literal | None:
    """The best (predicate, literal) by language, then predicate rank, then text (stable)."""
    ranked = sorted(
        literals,
        key=lambda pl: (
            language_rank(pl[1].language or "", preferred),
            _LABEL_RANK.get(pl[0], len(_LABEL_RANK)),
            pl[1].value,
        ),
    )
    return ranked[0][1] if ranked else None


@dataclass
class Labels:
    """Label literals known for IRIs, filled from quads at hand and topped up from the store."""

    store: Store
    base: str
    preferred: tuple[str, ...]
    known: dict[str, list[tuple[str, ox.Literal]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    _looked_up: set[str] = field(default_factory=set)

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        for quad in quads:
            if (
                quad.predicate.value in _LABEL_RANK
                and isinstance(quad.subject, ox.NamedNode)
                and isinstance(quad.object, ox.Literal)
            ):
                pair = (quad.predicate.value, quad.object)
                if pair not in self.known[quad.subject.value]:
                    self.known[quad.subject.value].append(pair)
        # What was seen in the quads is not necessarily all there is: look up on demand.

    def literal(self, iri: str) -> ox.Literal | None:
        if iri not in self._looked_up:
            self._looked_up.add(iri)
            self.add_quads(self.store.labels([ox.NamedNode(iri)]))
        return best_literal(self.known.get(iri, ()), self.preferred)

    def text(self, iri: str) -> tuple[str, str | None]:
        """(label, its language) for display; the CURIE or local name when there is none."""
        found = self.literal(iri)
        if found is not None:
            return found.value, found.language
        name = short_name(iri, base=self.base)
        if name in WELL_KNOWN_LABELS:
            return WELL_KNOWN_LABELS[name], "en"
        return name, None


def short_name(iri: str, *, base: str) -> str:
    """schema:Place for known namespaces; 'place/khojaly' for IRIs of this dataset."""
    if iri.startswith(base):
        rest = iri[len(base) :]
        for prefix in ("id/", "def/", "graph/"):
            if rest.startswith(prefix) and len(rest) > len(prefix):
                return rest[len(prefix) :]
        return rest or iri
    best = ""
    name = ""
    for prefix, namespace in prefixes(base).items():
        if iri.startswith(namespace) and len(namespace) > len(best):
            best, name = namespace, f"{prefix}:{iri[len(namespace) :]}"
    return name or iri


def comment_of(
    quads: Iterable[ox.Quad], subject: str, preferred: Sequence[str]
) -> ox.Literal | None:
    """The description of a subject in the reader's language, from quads at hand."""
    found = [
        (q.predicate.value, q.object)
        for q in quads
        if isinstance(q.subject, ox.NamedNode)
        and q.subject.value == subject
        and q.predicate.value in COMMENT_PREDICATES
        and isinstance(q.object, ox.Literal)
    ]
    ranked = sorted(
        found,
        key=lambda pl: (
            language_rank(pl[1].language or "", preferred),
            COMMENT_PREDICATES.index(pl[0]),
            pl[1].value,
        ),
    )
    return ranked[0][1] if ranked else None
