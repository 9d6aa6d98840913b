"""Assemble the Flask app: settings, the published dataset, blueprints, the error handler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from publisher.dist import SHAPES_FILE, SUMS_FILE, VOID_FILE
from publisher.settings import load_settings
from publisher.textsearch import SEARCH_FILE
from publisher.web import (
    compression,
    discovery,
    dumps,
    errors,
    fragments,
    pages,
    reconcile,
    resources,
    search,
)
from publisher.web import sparql as sparql_endpoint
from publisher.web.describe import file_quads
from publisher.web.fast_path import replayed
from publisher.web.fresh_path import fresh_queries
from publisher.web.http import (
    SECURITY_HEADERS,
    enforce_preconditions,
    ignore_multiple_ranges,
)
from publisher.web.links import local_link
from publisher.web.state import BuildSwitcher, Preload, served_build


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """The app factory: defaults -> PUBLISHER_* environment -> `overrides` (tests, CLI)."""
    settings = load_settings(overrides)
    app = Flask("publisher")
    app.config["MAX_CONTENT_LENGTH"] = settings.sparql_max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["publisher"] = BuildSwitcher(settings, preload=PRELOAD)
    errors.register(app)
    app.add_template_filter(local_link, "local_link")
    for blueprint in (
        pages.blueprint,
        dumps.blueprint,
        resources.blueprint,
        discovery.blueprint,
        fragments.blueprint,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(search.blueprint)
    app.register_blueprint(reconcile.blueprint)
    compression.register(app)
    app.register_blueprint(sparql_endpoint.blueprint)

    @app.after_request
    def cors(response: Response) -> Response:
        # Every GET is public data: let any web page use it.
        response.headers.setdefault("Access-Control-Allow-Origin", "*")
        response.headers.setdefault("Access-Control-Expose-Headers", "ETag, Link, Content-Location")
        return response

    app.after_request(security_headers)
    app.after_request(relative_location)
    app.before_request(ignore_multiple_ranges)
    # Registered last, so it runs first: before gzip and the other headers are added.
    app.after_request(enforce_preconditions)
    if settings.trusted_proxies > 0:
        # Only behind proxies the operator named: otherwise anyone could set the scheme, host
        # and mount prefix that links and redirects are built from.
        hops = int(settings.trusted_proxies)
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )
    else:
        app.wsgi_app = untrusted_mount(app.wsgi_app)  # type: ignore[method-assign]
    # Fresh SPARQL GETs answered without Flask; what is not the plain case reaches the app.
    if settings.sparql_fresh_path:
        app.wsgi_app = fresh_queries(app.wsgi_app, app.extensions["publisher"])  # type: ignore[method-assign]
    # Outermost: answers kept for this build are replayed before anything else runs.
    app.wsgi_app = replayed(app.wsgi_app, app.extensions["publisher"])  # type: ignore[method-assign]

    @app.context_processor
    def globals_for_templates() -> dict[str, Any]:
        state = served_build()
        return {"dataset_title": state.settings.title, "base": state.base, "build": state.info}

    return app


# Everything serving reads from a build's files, read when the build is opened: a damaged
# build fails there (at start, or is not switched to), never on a later request.
PRELOAD: tuple[Preload, ...] = (
    (SUMS_FILE, dumps.dump_files_of),
    (VOID_FILE, lambda state: file_quads(state, VOID_FILE)),
    (SHAPES_FILE, lambda state: file_quads(state, SHAPES_FILE)),
    (SEARCH_FILE, search.index_of),
)


def security_headers(response: Response) -> Response:
    """On every response, errors and files included."""
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)
    return response


def relative_location(response: Response) -> Response:
    """Redirects point at a path on this server, never at the Host the client claimed.

    Werkzeug's routing redirects (a trailing or doubled slash: 308) are absolute URLs built
    from the Host header; a cache would keep such a 308 for everyone.
    """
    location = response.headers.get("Location")
    if location and "://" in location:
        target = urlsplit(location)
        if target.netloc == request.host:
            path = target.path or "/"
            # "//x" as a path would name the host x: keep one leading slash.
            path = "/" + path.lstrip("/")
            response.headers["Location"] = path + (f"?{target.query}" if target.query else "")
    return response


def untrusted_mount(wsgi_app: Any) -> Any:
    """Without a trusted proxy the app is mounted at the root: no SCRIPT_NAME from outside."""

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        environ["SCRIPT_NAME"] = ""
        environ.pop("HTTP_X_FORWARDED_PREFIX", None)
        return wsgi_app(environ, start_response)

    return application
