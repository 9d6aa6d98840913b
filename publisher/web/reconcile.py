"""/reconcile: the W3C Entity Reconciliation Service API 0.2 (what OpenRefine speaks).

A spreadsheet column of names ("Xocalı", "Ходжалы", "khojaly") is matched to the things of the
graph. Entities are the resources under ``{base}id/``; an entity's identifier is its IRI
relative to that identifier space (``place/khojaly``), so ``identifierSpace + id`` is the IRI.
Types and properties are identified by CURIE (``schema:Place``); full IRIs are accepted too.

- ``GET /reconcile``: the service manifest.
- ``GET|POST /reconcile`` with ``queries=<JSON>`` (form field or query parameter): a batch of
  reconciliation queries -> candidates with scores 0-100; ``match`` only for an exact name
  that no other candidate shares.
- ``/reconcile/suggest/{entity,type,property}?prefix=..&cursor=..``: auto-completion.
- ``/reconcile/preview?id=..``: a small HTML card, framed by the client.

Names come from the search index (publisher.textsearch); only property values are read from
the store, so it answers the same over the embedded and the remote store.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, request

from publisher.namespaces import prefixes
from publisher.textsearch import ALT_LABEL, LABEL, Hit, fold
from publisher.web.errors import BadRequest, NotFound
from publisher.web.http import cached
from publisher.web.search import MAX_QUERY_CHARS, index_of
from publisher.web.state import ServedBuild, served_build

blueprint = Blueprint("reconcile", __name__)

DEFAULT_CANDIDATES = 5
SUGGEST_PAGE = 10
PREVIEW_WIDTH, PREVIEW_HEIGHT = 400, 140
# A preview is shown by the client in an iframe (OpenRefine): it may be framed by anyone,
# it runs nothing and loads nothing.
PREVIEW_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *"
# Weights of a candidate's score when a query gives properties: the name, then the share of
# the given properties whose value the candidate has.
NAME_WEIGHT, PROPERTY_WEIGHT = 0.7, 30.0


class Vocabulary:
    """CURIEs <-> IRIs with the dataset's prefixes (kg: is {base}def/)."""

    def __init__(self, base: str) -> None:
        # Longest namespace first, so that a namespace inside another wins.
        self.spaces = sorted(prefixes(base).items(), key=lambda item: -len(item[1]))

    def curie(self, iri: str) -> str:
        for prefix, space in self.spaces:
            if iri.startswith(space) and len(iri) > len(space):
                return f"{prefix}:{iri[len(space) :]}"
        return iri

    def iri(self, name: str) -> str:
        prefix, _, local = name.partition(":")
        for known, space in self.spaces:
            if known == prefix and not local.startswith("//"):
                return space + local
        return name


def identifier_space(state: ServedBuild) -> str:
    return state.base + "id/"


def _json(payload: object, *, etag_suffix: str | None = None) -> Response:
    response = Response(
        json.dumps(payload, ensure_ascii=False) + "\n",
        content_type="application/json; charset=utf-8",
    )
    # Answers to GET depend only on the build and the URL; a POSTed batch is not cached.
    return cached(response, etag_suffix=etag_suffix) if etag_suffix else response


def service_root() -> str:
    """Where this service answers, as the client reached it (behind a trusted proxy too)."""
    return request.url_root.rstrip("/")


def classes_of_things(state: ServedBuild) -> list[tuple[str, str, int]]:
    """The classes of the things under /id/, most used first: counted once per build."""
    space = identifier_space(state)
    return state.memo("reconcile_classes", lambda: index_of(state).classes(within=space))


def manifest(state: ServedBuild) -> dict[str, Any]:
    vocabulary = Vocabulary(state.base)
    space = identifier_space(state)
    root = service_root()
    classes = classes_of_things(state)
    return {
        "versions": ["0.1", "0.2"],
        "name": state.settings.title,
        "identifierSpace": space,
        "schemaSpace": state.base + "def/",
        "documentation": state.base,
        "view": {"url": space + "{{id}}"},
        "preview": {
            "url": root + "/reconcile/preview?id={{id}}",
            "width": PREVIEW_WIDTH,
            "height": PREVIEW_HEIGHT,
        },
        "suggest": {
            kind: {"service_url": root, "service_path": f"/reconcile/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
        "defaultTypes": [
            {"id": vocabulary.curie(cls), "name": label} for cls, label, _n in classes
        ],
    }


@blueprint.route("/reconcile", methods=["GET", "POST"])
def reconcile() -> Response:
    state = served_build()
    raw = request.form.get("queries") if request.method == "POST" else None
    if raw is None:
        raw = request.args.get("queries")
    if raw is None:
        if request.method == "POST":
            raise BadRequest("queries: missing (a form field holding the JSON batch)")
        return _json(manifest(state), etag_suffix="reconcile-manifest")
    batch = parse_batch(raw, maximum=int(state.settings.reconcile_max_queries))
    answers = {key: {"result": candidates(state, query)} for key, query in batch.items()}
    return _json(answers, etag_suffix="reconcile" if request.method == "GET" else None)


def parse_batch(raw: str, *, maximum: int) -> dict[str, dict[str, Any]]:
    """The batch, checked: an object of query objects, each with a `query` string or
    `properties`; anything else is a 400 naming what is wrong."""
    try:
        batch = json.loads(raw)
    except ValueError as error:
        raise BadRequest(f"queries: not JSON ({error})") from None
    except RecursionError:  # json's decoder recurses per level: [[[[... was a 500
        raise BadRequest("queries: JSON nested deeper than any batch is") from None
    if not isinstance(batch, dict):
        raise BadRequest('queries: a JSON object of queries, e.g. {"q0": {"query": "Xocalı"}}')
    if len(batch) > maximum:
        raise BadRequest(
            f"queries: at most {maximum} queries in one batch, got {len(batch)}",
            setting="reconcile_max_queries",
        )
    for key, query in batch.items():
        if not isinstance(query, dict):
            raise BadRequest(f"queries: {key[:40]!r} is not an object")
        text = query.get("query", "")
        if not isinstance(text, str) or len(text) > MAX_QUERY_CHARS:
            raise BadRequest(
                f"queries: {key[:40]!r}: query must be a string of at most "
                f"{MAX_QUERY_CHARS} characters"
            )
        limit = query.get("limit", DEFAULT_CANDIDATES)
        if (
            isinstance(limit, bool)
            or not isinstance(limit, (int, float))
            or not math.isfinite(limit)
            or limit < 0
        ):
            raise BadRequest(f"queries: {key[:40]!r}: limit must be a number, 0 or more")
        if not isinstance(query.get("type", ""), (str, list)):
            raise BadRequest(f"queries: {key[:40]!r}: type must be a string or a list")
        if not isinstance(query.get("properties", []), list):
            raise BadRequest(f"queries: {key[:40]!r}: properties must be a list")
    return batch


def _types(vocabulary: Vocabulary, given: object) -> frozenset[str]:
    names = [given] if isinstance(given, str) else given if isinstance(given, list) else []
    return frozenset(vocabulary.iri(t) for t in names if isinstance(t, str) and t)


def candidates(state: ServedBuild, query: dict[str, Any]) -> list[dict[str, Any]]:
    index = index_of(state)
    vocabulary = Vocabulary(state.base)
    space = identifier_space(state)
    maximum = int(state.settings.search_max_limit)
    limit = min(int(query.get("limit", DEFAULT_CANDIDATES) or DEFAULT_CANDIDATES), maximum)
    text = query.get("query", "")
    if not text.strip():
        return []
    hits = index.search(
        text, limit=limit, types=_types(vocabulary, query.get("type")), within=space
    )
    wanted = [p for p in query.get("properties", []) if isinstance(p, dict) and "pid" in p]
    exact = [h for h in hits if h.tier == 0 and h.kind in (LABEL, ALT_LABEL)]
    found = []
    for hit in hits:
        score, shares = hit.score, None
        if wanted:
            shares = sum(has_value(state, vocabulary, hit.iri, p) for p in wanted) / len(wanted)
            score = round(NAME_WEIGHT * score + PROPERTY_WEIGHT * shares, 1)
        found.append(
            {
                "id": hit.iri[len(space) :],
                "name": hit.label,
                "description": describe(hit),
                "score": score,
                "features": [
                    {"id": "name", "value": hit.score},
                    *([{"id": "properties", "value": shares}] if shares is not None else []),
                ],
                # Certain only when the name is exactly a label of this one candidate (and
                # it has every property value asked for).
                "match": len(exact) == 1 and exact[0] is hit and shares in (None, 1.0),
                "type": [
                    {"id": vocabulary.curie(t), "name": index.class_label(t)}
                    for t in index.types_of(hit.iri)
                ],
            }
        )
    found.sort(key=lambda c: -c["score"])
    return found


def describe(hit: Hit) -> str:
    """What a person choosing between candidates needs: the type and the name that matched."""
    parts = [hit.type] if hit.type else []
    if hit.match != hit.label:
        parts.append(f"{hit.kind}: {hit.match}" + (f" ({hit.lang})" if hit.lang else ""))
    return " · ".join(parts)


def has_value(state: ServedBuild, vocabulary: Vocabulary, iri: str, wanted: dict) -> bool:
    """Whether the entity has, for property `pid`, one of the values `v` (a string matched
    folded against literals and labels of linked things, or an entity {id})."""
    values = wanted.get("v")
    values = values if isinstance(values, list) else [values]
    predicate = vocabulary.iri(str(wanted.get("pid", "")))
    try:
        # An IRI the store can hold (a pid with spaces, quotes or <> is no property of ours).
        property_node = ox.NamedNode(predicate)
    except ValueError:
        return False
    if not predicate.startswith(("http://", "https://")):
        return False
    objects = [q.object for q in state.store.quads(ox.NamedNode(iri), property_node)]
    space = identifier_space(state)
    for value in values:
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            target = value["id"] if "://" in value["id"] else space + value["id"]
            if any(isinstance(o, ox.NamedNode) and o.value == target for o in objects):
                return True
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
            folded = fold(str(value))
            for obj in objects:
                if isinstance(obj, ox.Literal) and fold(obj.value) == folded:
                    return True
                if isinstance(obj, ox.NamedNode):
                    names = index_of(state).names_of(obj.value)
                    if any(fold(name) == folded for name, _l, _k, _s in names):
                        return True
    return False


def _prefix_and_cursor() -> tuple[str, int]:
    prefix = request.args.get("prefix")
    if prefix is None:
        raise BadRequest("prefix: missing (the text typed so far)")
    if len(prefix) > MAX_QUERY_CHARS:
        raise BadRequest(f"prefix: at most {MAX_QUERY_CHARS} characters, got {len(prefix)}")
    cursor = request.args.get("cursor", "0")
    if not cursor.isascii() or not cursor.isdigit() or int(cursor) > 10_000:
        raise BadRequest(f"cursor: a whole number from 0 to 10000, got {cursor[:40]!r}")
    return prefix, int(cursor)


@blueprint.get("/reconcile/suggest/entity")
def suggest_entity() -> Response:
    state = served_build()
    prefix, cursor = _prefix_and_cursor()
    vocabulary = Vocabulary(state.base)
    space = identifier_space(state)
    index = index_of(state)
    hits = index.search(prefix, limit=SUGGEST_PAGE, offset=cursor, within=space)
    result = [
        {
            "id": hit.iri[len(space) :],
            "name": hit.label,
            "description": describe(hit),
            "notable": [{"id": vocabulary.curie(hit.type_iri), "name": hit.type}]
            if hit.type_iri
            else [],
        }
        for hit in hits
    ]
    return _json({"result": result}, etag_suffix="reconcile-suggest-entity")


def _suggest_terms(terms: list[tuple[str, str]], kind: str) -> Response:
    state = served_build()
    prefix, cursor = _prefix_and_cursor()
    vocabulary = Vocabulary(state.base)
    wanted = fold(prefix)

    def matches(iri: str, label: str) -> bool:
        curie = vocabulary.curie(iri)
        return not wanted or any(
            fold(text).startswith(wanted) or f" {wanted}" in f" {fold(text)}"
            for text in (label, curie, iri)
        )

    found = [
        {"id": vocabulary.curie(iri), "name": label} for iri, label in terms if matches(iri, label)
    ]
    page = found[cursor : cursor + SUGGEST_PAGE]
    return _json({"result": page}, etag_suffix=f"reconcile-suggest-{kind}")


@blueprint.get("/reconcile/suggest/type")
def suggest_type() -> Response:
    state = served_build()
    classes = classes_of_things(state)
    return _suggest_terms([(iri, label) for iri, label, _n in classes], "type")


@blueprint.get("/reconcile/suggest/property")
def suggest_property() -> Response:
    return _suggest_terms(index_of(served_build()).properties(), "property")


@blueprint.get("/reconcile/preview")
def preview() -> Response:
    state = served_build()
    raw = request.args.get("id")
    if raw is None:
        raise BadRequest("id: missing (an entity identifier, e.g. place/khojaly)")
    space = identifier_space(state)
    iri = raw if raw.startswith(space) else space + raw
    index = index_of(state)
    found = index.entity(iri)
    if found is None or len(raw) > 500:
        raise NotFound(f"id: no entity {raw[:100]!r} in this dataset")
    label, type_label, _type = found
    others = [
        f'<li lang="{escape(lang)}">{escape(text)}</li>' if lang else f"<li>{escape(text)}</li>"
        for text, lang, kind, _source in index.names_of(iri)
        if kind in (LABEL, ALT_LABEL) and text != label
    ]
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(label)}</title>"
        "<style>body{font:14px/1.35 sans-serif;margin:.4rem}ul{margin:.2rem 0;padding-left:1.1rem}"
        "small{color:#555}</style></head><body>"
        f'<p><a href="{escape(iri)}" target="_blank" rel="noopener"><strong>{escape(label)}</strong></a>'
        f"{' <small>' + escape(type_label) + '</small>' if type_label else ''}</p>"
        f"{'<ul>' + ''.join(others[:8]) + '</ul>' if others else ''}"
        f"<p><small>{escape(iri)}</small></p></body></html>"
    )
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    return cached(response, etag_suffix="reconcile-preview")
