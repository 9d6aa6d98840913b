"""A linked-data publisher: a SHACL-validated knowledge graph served as linked data and SPARQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__version__ = "0.1.0"


def create_app(settings: Mapping[str, Any] | None = None) -> Flask:
    """The app factory (``publisher.web.app.create_app``), imported on first call: importing
    the package (the CLI, the query workers) stays free of Flask."""
    from publisher.web.app import create_app as factory

    return factory(settings)


def serving_app() -> Any:
    """What `publisher serve` runs under granian: the app, behind the access log when the
    setting `access_log` is on (``publisher.web.access_log``, in place of granian's own)."""
    from publisher.web.access_log import AccessLog, logged

    app = create_app()
    if app.extensions["publisher"].settings.access_log:
        return logged(app, AccessLog())
    return app
