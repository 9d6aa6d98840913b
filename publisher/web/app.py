"""Assemble the Flask app: settings, the published dataset, blueprints, the error handler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response

from publisher.settings import load_settings
from publisher.web import compression, discovery, dumps, errors, pages, resources
from publisher.web import sparql as sparql_endpoint
from publisher.web.links import local_link
from publisher.web.state import Publication, published


def make_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(overrides)
    app = Flask("publisher")
    app.config["MAX_CONTENT_LENGTH"] = settings.sparql_max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["publisher"] = Publication(settings)
    errors.register(app)
    app.add_template_filter(local_link, "local_link")
    for blueprint in (pages.blueprint, dumps.blueprint, resources.blueprint, discovery.blueprint):
        app.register_blueprint(blueprint)
    compression.register(app)
    app.register_blueprint(sparql_endpoint.blueprint)
    app.extensions["publisher"].retire_hooks.append(sparql_endpoint.retire_pool)

    @app.after_request
    def cors(response: Response) -> Response:
        # Every GET is public data: let any web page use it.
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        response.headers.setdefault("Access-Control-Expose-Headers", "ETag, Link, Content-Location")
        return response

    @app.context_processor
    def globals_for_templates() -> dict[str, Any]:
        state = published()
        return {"dataset_title": state.settings.title, "base": state.base, "build": state.info}

    return app
