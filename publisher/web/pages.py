"""Pages for people: the home page summarising the dataset."""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from publisher.web.http import cached
from publisher.web.state import published

blueprint = Blueprint("pages", __name__)

CLASS_COUNTS = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n)
"""
GRAPH_COUNTS = """
SELECT ?graph (COUNT(*) AS ?n) WHERE { GRAPH ?graph { ?s ?p ?o } } GROUP BY ?graph ORDER BY ?graph
"""


def summary() -> dict[str, object]:
    """Counts per class and per graph, computed once per process (the data is read-only)."""
    state = published()
    if "summary" not in state.extras:
        store = state.store
        state.extras["summary"] = {
            "classes": [(r["class"].value, int(r["n"].value)) for r in store.query(CLASS_COUNTS)],
            "graphs": [(r["graph"].value, int(r["n"].value)) for r in store.query(GRAPH_COUNTS)],
        }
    return state.extras["summary"]


@blueprint.get("/")
def home() -> Response:
    state = published()
    body = render_template("home.html", summary=summary(), info=state.info)
    return cached(Response(body, content_type="text/html; charset=utf-8"), etag_suffix="home")
