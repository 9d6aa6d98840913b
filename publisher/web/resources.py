"""/id /doc /def /graph /dataset /shapes: every IRI of the dataset, dereferenceable.

Each request runs the same pipeline (Trifid-style): resolve the path to an IRI -> pick the
format (extension > ?format= > Accept) -> does the IRI exist? -> describe -> render -> headers.
The page types (web/page_types.py) say, per type, the routes, the IRI mapping, exists and
describe; the modules named in the imports own each step; this one wires them to routes.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, request
from werkzeug.wsgi import wrap_file

from publisher import formats
from publisher.dist import SHAPES_FILE
from publisher.formats import Format
from publisher.negotiation import choose
from publisher.web.cache import rendered_cache
from publisher.web.compression import accepts_gzip, compressible_type
from publisher.web.describe import file_quads
from publisher.web.disk_cache import DiskCache, for_build, render_digest
from publisher.web.errors import BadRequest, NotAcceptable, NotFound
from publisher.web.http import cached
from publisher.web.labels import languages_key, preferred_languages
from publisher.web.page_types import PAGE_TYPES, SHAPES, THING, PageType
from publisher.web.render import RenderContext, not_found_body, render
from publisher.web.resolve import Target, check_name, raw_rest, split_extension
from publisher.web.state import ServedBuild, served_build
from publisher.xmlsafe import NotXmlSafe

blueprint = Blueprint("resources", __name__)


# -- step 2: the format ----------------------------------------------------------------------
def pick_format(target: Target) -> tuple[Format, bool]:
    """(format, negotiated?): an extension or ?format= names one, else Accept chooses."""
    if target.explicit is not None:
        return target.explicit, False
    named = request.args.get("format")
    if named:
        fmt = formats.by_name(named, formats.RESOURCE_FORMATS)
        if fmt is None:
            raise BadRequest(
                f"unknown format {named!r}; known: "
                + ", ".join(f.name for f in formats.RESOURCE_FORMATS)
            )
        return fmt, False
    fmt = choose(request.headers.get("Accept"), formats.RESOURCE_FORMATS)
    if fmt is None:
        available = "; ".join(
            f"{f.media_type} ({_url(target.variant(f))})" for f in formats.RESOURCE_FORMATS
        )
        raise NotAcceptable(
            f"none of the media types in Accept: {request.headers.get('Accept')!r} is "
            f"available for {target.iri}. Available: {available}",
            headers={"Vary": "Accept", "Link": _alternates_header(target, None)},
        )
    return fmt, True


def _url(path: str) -> str:
    return request.script_root + path


def _alternates_header(target: Target, chosen: Format | None) -> str:
    return ", ".join(
        f'<{_url(target.variant(f))}>; rel="alternate"; type="{f.media_type}"'
        for f in formats.RESOURCE_FORMATS
        if f is not chosen
    )


def _vary(fmt: Format, negotiated: bool) -> list[str]:
    vary = ["Accept"] if negotiated else []
    if fmt is formats.HTML:
        vary.append("Accept-Language")  # labels are shown in the reader's language
    return vary


# -- steps 3-5: exists? -> describe -> render -----------------------------------------------


def _files(state: ServedBuild) -> DiskCache:
    """The rendered variants of this build on disk, shared by the server's processes: each is
    rendered at most once per build (while they fit) and then served as a file."""
    return for_build(state, "doc", max_bytes=int(state.settings.doc_cache_max_bytes))


GZIPPED = "\0gzip"  # the key suffix of a variant's gzip-compressed copy
PRERENDERED = (
    "prerendered/doc"  # in dist/: the variants the build rendered (publisher/prerender.py)
)


def prerendered_dir(dist: os.PathLike[str] | str, digest: str) -> str:
    return os.path.join(dist, PRERENDERED, digest)


def _prerendered(state: ServedBuild) -> DiskCache | None:
    """The variants the build rendered with this server's rendering settings, read-only (the
    build wrote them as this cache's entries: the same keys, bodies and gzip copies); None
    when the build rendered none, or rendered them under other settings."""

    def make() -> DiskCache | None:
        directory = prerendered_dir(state.dist, render_digest(state.settings))
        if not os.path.isdir(directory):
            return None
        # Never written to by the server (the bound only marks it enabled).
        return DiskCache(Path(directory), max_bytes=1)

    return state.memo("resources:prerendered", make)


def _keep(files: DiskCache, key: str, body: bytes, fmt: Format) -> bool:
    """Write the variant (and its gzip copy, the bytes web/compression would send) to disk."""
    if not files.enabled or not files.put(key, body):
        return False
    minimum = int(served_build().settings.compress_min_bytes)
    if compressible_type(fmt.media_type) and 0 < minimum <= len(body):
        files.put(key + GZIPPED, gzip.compress(body, compresslevel=6, mtime=0))
    return True


def _file_response(files: DiskCache, key: str, fmt: Format) -> Response | None:
    """The stored variant, passed to the WSGI server as a file (``wsgi.file_wrapper``), or
    None when it is not stored. web/compression leaves file responses alone, so the stored
    gzip copy is chosen here when the client accepts gzip."""
    if not files.enabled:
        return None
    stream = encoding = None
    if accepts_gzip() and compressible_type(fmt.media_type):
        stream = files.open(key + GZIPPED)
        encoding = "gzip" if stream is not None else None
    if stream is None:
        stream = files.open(key)
        if stream is None:
            return None
    response = Response(
        wrap_file(request.environ, stream), content_type=fmt.content_type, direct_passthrough=True
    )
    response.content_length = os.fstat(stream.fileno()).st_size
    if encoding:
        response.headers["Content-Encoding"] = encoding
    return response


def _not_found(target: Target, fmt: Format, negotiated: bool) -> NotFound:
    state = served_build()
    message = f"No description of <{target.iri}> in this dataset (build {state.info.build_id})."
    body = not_found_body(target.iri, fmt, base=state.base, message=message)
    response = Response(body, content_type=fmt.content_type)
    if vary := _vary(fmt, negotiated):
        response.headers["Vary"] = ", ".join(vary)
    return NotFound(message, representation=response)


def _not_representable(
    target: Target, fmt: Format, negotiated: bool, error: NotXmlSafe
) -> NotAcceptable:
    """This description cannot be written in this format (XML cannot carry one of its terms):
    406 naming the term, offering every other variant."""
    others = [f for f in formats.RESOURCE_FORMATS if f is not fmt]
    available = "; ".join(f"{f.media_type} ({_url(target.variant(f))})" for f in others)
    headers = {"Link": _alternates_header(target, fmt)}
    if vary := _vary(fmt, negotiated):
        headers["Vary"] = ", ".join(vary)
    return NotAcceptable(
        f"{error}. The description of <{target.iri}> is available as: {available}",
        headers=headers,
    )


def serve(target: Target) -> Response:
    state = served_build()
    fmt, negotiated = pick_format(target)
    page = target.page
    iri = page.exists(target, state)
    if iri is None:
        raise _not_found(target, fmt, negotiated)
    languages = preferred_languages() if fmt is formats.HTML else ()
    key = (page.name, iri, fmt.name, languages)
    files = _files(state)
    file_key = json.dumps([request.script_root, *key], ensure_ascii=False)
    response = _file_response(files, file_key, fmt)
    if response is None and (prerendered := _prerendered(state)) is not None:
        response = _file_response(prerendered, file_key, fmt)
    if response is None:
        # The body is cached by IRI, so its links name the document's one spelling, not the
        # spelling this request happened to use (the headers below follow the request).
        canonical = replace(target, document=page.iris.document_of(iri, base=state.base))
        alternates = [(f, _url(canonical.variant(f))) for f in formats.RESOURCE_FORMATS]
        context = RenderContext(state, languages, alternates)
        try:
            body = rendered_cache(state, "resource_cache").get_or_make(
                key, lambda: render(page.describe(target, iri, state), fmt, context)
            )
        except NotXmlSafe as error:
            raise _not_representable(target, fmt, negotiated, error) from None
        if _keep(files, file_key, body, fmt):
            response = _file_response(files, file_key, fmt)
        if response is None:
            response = Response(body, content_type=fmt.content_type)
    response.headers["Content-Location"] = _url(target.variant(fmt))
    response.headers["Link"] = _alternates_header(target, fmt)
    if vary := _vary(fmt, negotiated):
        response.headers["Vary"] = ", ".join(vary)
    suffix = fmt.name + (f"-{languages_key(languages)}" if fmt is formats.HTML else "")
    response = cached(response, etag_suffix=suffix)
    if response.direct_passthrough and compressible_type(fmt.media_type):
        # What web/compression does for the responses it sees (it leaves files alone).
        response.vary.add("Accept-Encoding")
        etag, weak = response.get_etag()
        if etag and not weak:
            response.set_etag(etag, weak=True)
    return response


# -- routes ----------------------------------------------------------------------------------
def _register(page: PageType) -> None:
    """The page type's routes, each running `serve` on the target its path names."""

    def view(rest: str = "", extension: str = "") -> Response:
        raw = page.iris.raw(rest=rest, extension=extension)
        return serve(page.resolve(base=served_build().base, raw=raw))

    for rule in page.iris.rules:
        blueprint.add_url_rule(rule, endpoint=page.name, view_func=view, methods=["GET"])


for page_type in PAGE_TYPES:
    _register(page_type)


@blueprint.get("/id/<path:rest>")
def identifier(rest: str) -> Response:
    """A thing is not a document: 303 to the document describing it, in the chosen format."""
    state = served_build()
    target = THING.resolve(base=state.base, raw=raw_rest("/id/", rest))
    fmt, negotiated = pick_format(target)
    if THING.exists(target, state) is None:
        raise _not_found(target, fmt, negotiated)
    location = _url(target.variant(fmt))
    response = Response(f"See {location}\n", 303, content_type="text/plain; charset=utf-8")
    response.headers["Location"] = location
    if negotiated:
        response.headers["Vary"] = "Accept"
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@blueprint.get("/shapes/<path:rest>")
def shape(rest: str) -> Response:
    """A shape's IRI ({base}shapes/Name): 303 to the shapes document that defines it."""
    state = served_build()
    target = SHAPES.resolve(base=state.base, raw="")
    stem, explicit = split_extension(raw_rest("/shapes/", rest))
    name = check_name(stem, what="/shapes/{Shape}")
    fmt, negotiated = (explicit, False) if explicit else pick_format(target)
    iris = {state.base + "shapes/" + spelling for spelling in (stem, name)}
    defined = any(
        isinstance(term, ox.NamedNode) and term.value in iris
        for quad in file_quads(state, SHAPES_FILE)
        for term in (quad.subject, quad.object)
    )
    if not defined:
        raise _not_found(replace(target, iri=state.base + "shapes/" + stem), fmt, negotiated)
    location = _url(target.variant(fmt))
    response = Response(f"See {location}\n", 303, content_type="text/plain; charset=utf-8")
    response.headers["Location"] = location
    if negotiated:
        response.headers["Vary"] = "Accept"
    return response
