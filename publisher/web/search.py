"""/search: the names of the dataset's resources, as JSON for scripts and a page for people.

Reads the build's search index file (publisher.textsearch), never the store: the same answers
over the embedded and the remote store. Answers are a function of the build and the query
string, so they carry the build's ETag and are cached like every build-immutable response.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, render_template, request

from publisher import formats
from publisher.formats import Family, Format
from publisher.negotiation import choose
from publisher.textsearch import NAME_USED, SEARCH_FILE, Hit, SearchIndex
from publisher.web.errors import BadRequest, NotAcceptable
from publisher.web.http import cached
from publisher.web.links import local_link
from publisher.web.state import ServedBuild, served_build

blueprint = Blueprint("search", __name__)

SEARCH_JSON = Format("json", "JSON", "application/json", "json", Family.PAGE)
# Scripts (curl's */*, fetch) get JSON; browsers, which name text/html, get the page.
SEARCH_OFFERS: tuple[Format, ...] = (SEARCH_JSON, formats.HTML)
MAX_QUERY_CHARS = 200


def index_of(state: ServedBuild) -> SearchIndex:
    """The build's search index, opened once per build and process (PRELOAD opens it first)."""
    return state.memo("search_index", lambda: SearchIndex(Path(state.dist) / SEARCH_FILE))


def query_text(name: str = "q", *, required: bool = True) -> str:
    """A text parameter, checked: present (when required), not too long, no control chars."""
    value = request.args.get(name)
    if value is None:
        if required:
            raise BadRequest(f"{name}: missing (the text to search for, e.g. ?{name}=Xocalı)")
        return ""
    if len(value) > MAX_QUERY_CHARS:
        raise BadRequest(f"{name}: at most {MAX_QUERY_CHARS} characters, got {len(value)}")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise BadRequest(f"{name}: contains control characters")
    return value


def limit_param(*, default: int, maximum: int) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise BadRequest(f"limit: a whole number from 1 to {maximum}, got {raw[:40]!r}")
    return int(raw)


def hit_json(hit: Hit) -> dict[str, object]:
    found: dict[str, object] = {
        "iri": hit.iri,
        "href": local_link(hit.iri),
        "label": hit.label,
        "lang": hit.lang,
        "type": hit.type,
        "typeIri": hit.type_iri,
        "match": hit.match,
        "kind": hit.kind,
        "score": hit.score,
    }
    if hit.kind == NAME_USED:
        found["source"] = hit.source  # the graph of the source that uses this name
    return found


def _format() -> Format:
    explicit = request.args.get("format")
    if explicit is not None:
        for fmt in SEARCH_OFFERS:
            if explicit == fmt.name:
                return fmt
        raise BadRequest(f"format: one of json, html, got {explicit[:40]!r}")
    fmt = choose(request.headers.get("Accept"), SEARCH_OFFERS)
    if fmt is None:
        raise NotAcceptable("/search answers application/json or text/html")
    return fmt


@blueprint.get("/search")
def search() -> Response:
    state = served_build()
    fmt = _format()
    maximum = int(state.settings.search_max_limit)
    limit = limit_param(default=min(10, maximum), maximum=maximum)
    if fmt is formats.HTML:
        text = query_text(required=False)
        index = index_of(state)
        hits = index.search(text, limit=limit) if text else []
        # A source's name is shown with the source: its graph's label.
        sources = {
            h.source: (index.entity(h.source) or (h.source.rsplit("/", 1)[-1],))[0]
            for h in hits
            if h.source
        }
        body = render_template(
            "search.html",
            query=text,
            search_query=text,
            hits=hits,
            sources=sources,
            limit=limit,
        )
        response = Response(body, content_type="text/html; charset=utf-8")
    else:
        text = query_text()
        hits = index_of(state).search(text, limit=limit)
        payload = {"query": text, "limit": limit, "hits": [hit_json(h) for h in hits]}
        response = Response(
            json.dumps(payload, ensure_ascii=False) + "\n",
            content_type="application/json; charset=utf-8",
        )
    response.vary.add("Accept")
    return cached(response, etag_suffix="search-" + fmt.name)
