"""How crawlers and clients find things: sitemap.xml, robots.txt, /.well-known/void, the
JSON-LD @context at its own URL.
"""

from __future__ import annotations

import json
from urllib.parse import quote
from xml.sax.saxutils import escape

from flask import Blueprint, Response, redirect, request

from publisher.dist import CONTEXT_FILE
from publisher.web.http import cached
from publisher.web.resolve import SAFE_IN_PATH
from publisher.web.state import ServedBuild, served_build

blueprint = Blueprint("discovery", __name__)

# The sitemap protocol's limit for one file; a larger dataset would need a sitemap index.
SITEMAP_MAX_URLS = 50_000


def sitemap_paths(state: ServedBuild) -> list[str]:
    """Paths of every page: /doc/ of each thing, /def/ terms, /graph/ graphs, the fixed pages."""
    return state.memo("sitemap", lambda: _sitemap_paths(state))


def _sitemap_paths(state: ServedBuild) -> list[str]:
    base = state.base
    # `base` is configuration, not request input; it is quoted as a SPARQL string literal.
    query = (
        "SELECT DISTINCT ?x WHERE { { ?x ?p ?o } UNION { ?s ?p ?x } "
        f"FILTER(isIRI(?x) && STRSTARTS(STR(?x), {json.dumps(base)})) }}"
    )
    things, terms = set(), set()
    for row in state.store.query(query):
        rest = row["x"].value[len(base) :]
        if rest.startswith("id/") and len(rest) > 3:
            things.add("/doc/" + rest[3:])
        elif rest.startswith("def/") and len(rest) > 4:
            terms.add("/" + rest)
    graphs = {"/" + g[len(base) :] for g in state.graph_sizes if g.startswith(base)}
    fixed = ["/", "/dataset", "/def/", "/shapes", "/dumps/", "/sparql"]
    paths = fixed + sorted(things) + sorted(terms) + sorted(graphs - set(fixed))
    return paths[:SITEMAP_MAX_URLS]


@blueprint.get("/sitemap.xml")
def sitemap() -> Response:
    state = served_build()
    root = state.base.rstrip("/")
    lastmod = state.info.built_at[:10]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for path in sitemap_paths(state):
        # The sitemap protocol wants URLs (RFC 3986): a non-ASCII name is percent-encoded
        # (/doc/place/xocal%C4%B1); an escape already in an IRI is kept.
        url = root + quote(path, safe=SAFE_IN_PATH)
        lines.append(f"<url><loc>{escape(url)}</loc><lastmod>{lastmod}</lastmod></url>")
    lines.append("</urlset>")
    body = "\n".join(lines) + "\n"
    return cached(
        Response(body, content_type="application/xml; charset=utf-8"), etag_suffix="sitemap"
    )


@blueprint.get("/robots.txt")
def robots() -> Response:
    base = served_build().base
    body = (
        "# Every page of the dataset may be crawled; SPARQL queries are for people and tools.\n"
        "User-agent: *\n"
        "Allow: /\n"
        "Disallow: /sparql\n"
        f"Sitemap: {base}sitemap.xml\n"
    )
    return cached(Response(body, content_type="text/plain; charset=utf-8"), etag_suffix="robots")


@blueprint.get("/context.jsonld")
def context() -> Response:
    state = served_build()
    body = (state.dist / CONTEXT_FILE).read_bytes()
    return cached(Response(body, content_type="application/ld+json"), etag_suffix="context")


@blueprint.get("/.well-known/void")
def well_known_void() -> Response:
    # RFC 8615 well-known location of the VoID description (VoID spec, section 7.2).
    return redirect(request.script_root + "/dataset", code=303)
