"""/doc/ variants rendered by the build, so that even a description's first request is a file
(issue 10; setting `doc_prerender`).

The build calls `prerender` on its staging directory, after everything else is written and
before the swap (publisher.dataset.publish, `before_swap`), so a dist/ is swapped in with its
pre-rendered variants or not at all. They are rendered by the web app itself, on the staging
build, through its own request path (a test client: the same route, negotiation, renderer,
gzip copy), and written as the entries of its doc cache (web/resources.py `_keep`); they are
served from dist/prerendered/doc/<digest>/ by any server whose rendering settings have that
digest (web/disk_cache.py `render_digest`). Headers are not stored: each answer's headers are
made by the app per request, as for a variant it rendered.

This module sits above both layers (the build must not import the web tier, so the CLI hands
this function to the build).

An incremental build renders every description again, not only the changed subjects': a
description also shows its neighbours' labels and the statements that point to it, so the
variants a change touches are more than the changed subjects' own. Pre-rendering is meant
for datasets small enough for that (`doc_prerender_max_resources`).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from publisher import formats
from publisher.errors import BuildError
from publisher.settings import Settings

log = logging.getLogger("publisher.build")

MODES = ("first-request", "build", "auto")
# The doc cache's bound while the build renders: every variant must fit.
NO_BOUND = 1 << 50
SCRATCH = ".prerender-cache"
AS_SERVED = {"REQUEST_URI": "", "RAW_URI": ""}


def prerender_hook(settings: Settings) -> Callable[[Path], Any] | None:
    """What the build runs on its staging directory, or None when nothing is pre-rendered."""
    mode = str(settings.doc_prerender)
    if mode not in MODES:
        raise BuildError(
            f"doc_prerender (env PUBLISHER_DOC_PRERENDER) is {mode!r}: "
            f"one of {', '.join(MODES)} is expected"
        )
    if mode == "first-request":
        return None
    limit = None if mode == "build" else int(settings.doc_prerender_max_resources)
    return lambda staging: prerender(staging, settings, limit=limit)


def doc_url(document: str, fmt: formats.Format) -> str:
    """/doc/a/b -> /doc/a/b.ttl, percent-encoded as a link to it would be."""
    stem = document[:-1] if document.endswith("/") else document
    return quote(f"{stem}.{fmt.extension}", safe="/!$&'()*+,;=:@-._~")


def prerender(dist: Path, settings: Settings, *, limit: int | None) -> int:
    """Render every /doc/ variant of the build in `dist` into dist/prerendered/doc/<digest>/;
    nothing when the build describes more than `limit` things. Returns the variants kept."""
    from publisher.web.app import create_app
    from publisher.web.discovery import sitemap_paths
    from publisher.web.disk_cache import for_build, render_digest
    from publisher.web.resources import prerendered_dir

    if str(settings.store).startswith(("http://", "https://")):
        # A remote store is loaded apart from the build: at this point it may still hold the
        # previous data, and a description rendered from it would be stale.
        log.info("not pre-rendering /doc/: the web tier reads a remote store")
        return 0
    scratch = dist / SCRATCH
    overrides = {
        **dict(settings),
        "dist_dir": str(dist),
        "cache_dir": str(scratch),
        "doc_cache_max_bytes": NO_BOUND,
        "response_cache_max_bytes": 0,
        "replay_memory_max_bytes": 0,
        "doc_prerender": "first-request",
    }
    app = create_app(overrides)
    state = app.extensions["publisher"].current
    try:
        documents = [p for p in sitemap_paths(state) if p.startswith("/doc/")]
        if limit is not None and len(documents) > limit:
            log.info("not pre-rendering /doc/: %d things, more than %d", len(documents), limit)
            return 0
        client = app.test_client()
        for document in documents:
            for fmt in formats.RESOURCE_FORMATS:
                # As granian gives a request (`serve`): the path decoded, without the raw
                # spelling werkzeug adds (a body's links follow the path as the server gives it).
                response = client.get(doc_url(document, fmt), environ_overrides=AS_SERVED)
                response.close()
                # Anything but a body (a 406 for a term XML cannot carry, say) is kept out and
                # answered by the app on each request, as without pre-rendering.
                if response.status_code not in (200, 406):
                    log.warning("not pre-rendered: %s (HTTP %s)", document, response.status)
        # The doc cache the app rendered into (the same memo web/resources.py uses).
        rendered = for_build(state, "doc", max_bytes=NO_BOUND).directory
        if not rendered.is_dir():
            return 0
        target = Path(prerendered_dir(dist, render_digest(state.settings)))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(rendered, target)
        return sum(1 for entry in target.iterdir() if not entry.name.startswith("."))
    finally:
        state.store.close()
        shutil.rmtree(scratch, ignore_errors=True)
