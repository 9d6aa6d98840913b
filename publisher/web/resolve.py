"""Request path -> the IRI it names: the first step of every linked-data request.

A page type (web/page_types.py) maps paths to IRIs with one of two mappings: `PathBelow`
(``/doc/{type}/{slug}`` names ``{base}id/{type}/{slug}``) or `NamedDocument` (``/dataset``,
``/def/``: one IRI, its variants by extension).

The IRI is built from the path as the client sent it (percent-encoding kept), because an IRI
with ``%20`` and one with a space (or ``%C4%B1`` and ``ı``) are different terms in RDF. Both
spellings are tried, the one present in the store wins, so IRIs minted either way round-trip.
A path that cannot name anything (empty or dot segments, bytes that are not UTF-8, control
characters) is a 400, never a lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import pyoxigraph as ox
from flask import request

from publisher import formats
from publisher.formats import Format
from publisher.web.errors import BadRequest, NotFound

if TYPE_CHECKING:
    from publisher.web.page_types import PageType

MAX_PATH_LENGTH = 2_048
# Characters RFC 3987 does not allow in an IRI (after percent-decoding they cannot be minted).
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f<>\"{}|\\^`\ufffd]")
# Characters kept as they are when re-encoding a decoded path (RFC 3986 pchar + "/" + "%").
SAFE_IN_PATH = "/:@!$&'()*+,;=-._~%"


@dataclass(frozen=True)
class Target:
    """What a request is about: the IRI described and the URL of its generic document."""

    page: PageType
    iri: str
    document: str  # path of the generic (negotiated) document, percent-encoded, e.g. /doc/a/b
    explicit: Format | None = None  # the format named by an extension (beats Accept)
    candidates: tuple[str, ...] = ()  # every spelling of the IRI worth looking up

    def variant(self, fmt: Format) -> str:
        """Path of one variant: /doc/a/b.ttl; /def/ and / have no name to extend: /def.ttl."""
        stem = self.document[:-1] if self.document.endswith("/") else self.document
        return f"{stem}.{fmt.extension}"


def split_extension(rest: str) -> tuple[str, Format | None]:
    """'event/x.ttl' -> ('event/x', TURTLE); an unknown suffix stays part of the name."""
    stem, dot, extension = rest.rpartition(".")
    if dot and "/" not in extension:
        fmt = formats.by_extension(extension)
        if fmt is not None:
            return stem, fmt
    return rest, None


def raw_path() -> str:
    """The path exactly as the client sent it (percent-encoding intact), without the mount.

    WSGI gives PATH_INFO already decoded; gunicorn (RAW_URI) and Werkzeug (REQUEST_URI) keep
    the original. Without either (another server) the decoded path is re-encoded.
    """
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    raw = raw.split("?", 1)[0].split("#", 1)[0]
    if "://" in raw:  # absolute-form request target (proxies)
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    root = request.script_root
    if root and raw.startswith(root):
        raw = raw[len(root) :]
    if not raw or _decode(raw) != request.path:
        raw = request.path
    # Idempotent on a well-formed path ('%' is kept); encodes raw non-ASCII bytes some clients
    # send, so every path put back into a header is ASCII.
    return quote(raw, safe=SAFE_IN_PATH)


def raw_rest(prefix: str, rest: str) -> str:
    """The raw (still percent-encoded) remainder of the path after a route prefix like /doc/."""
    raw = raw_path()
    if raw.startswith(prefix) and _decode(raw[len(prefix) :]) == rest:
        return raw[len(prefix) :]
    return quote(rest, safe=SAFE_IN_PATH)


def _decode(raw: str) -> str:
    return unquote(raw, encoding="utf-8", errors="replace")


def check_name(raw_name: str, *, what: str) -> str:
    """Validate the part of the path after the prefix; return it decoded (400 when malformed)."""
    if len(raw_name) > MAX_PATH_LENGTH:
        raise BadRequest(f"path too long ({len(raw_name)} characters, at most {MAX_PATH_LENGTH})")
    if not raw_name:
        raise BadRequest(f"malformed path: expected {what}")
    decoded = _decode(raw_name)
    if "\ufffd" in decoded and "\ufffd" not in raw_name:
        raise BadRequest("malformed path: percent-encoded bytes that are not UTF-8")
    if re.search(r"[\x00-\x1f\x7f]", decoded):
        raise BadRequest("malformed path: control characters")
    segments = raw_name.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise BadRequest(f"malformed path: empty or dot segment in {raw_name!r}; expected {what}")
    return decoded


def iri_candidates(prefix: str, raw_name: str, decoded: str) -> tuple[str, ...]:
    """The spellings of prefix+name: as sent, decoded to an IRI, re-encoded canonically."""
    spellings = [
        raw_name,
        decoded,
        quote(decoded, safe=SAFE_IN_PATH.replace("%", "")),  # %-encode everything not ASCII-safe
        re.sub(r"%[0-9a-fA-F]{2}", lambda m: m.group(0).upper(), raw_name),
    ]
    found: dict[str, None] = {}
    for spelling in spellings:
        if _FORBIDDEN.search(spelling):
            continue
        iri = prefix + spelling
        try:
            ox.NamedNode(iri)
        except ValueError:
            continue
        found.setdefault(iri)
    if not found:
        raise BadRequest(f"malformed path: {raw_name!r} cannot be part of an IRI")
    return tuple(found)


@dataclass(frozen=True)
class PathBelow:
    """Names below a route prefix: ``{prefix}{name}`` describes ``{base}{iri_path}{name}``
    (``/doc/event/x`` -> ``{base}id/event/x``; ``/graph/x`` -> ``{base}graph/x``)."""

    prefix: str  # the route prefix, e.g. "/doc/"
    iri_path: str  # where the IRIs live below the base, e.g. "id/"
    what: str  # the expected path, for 400 messages: "/doc/{type}/{slug}"

    @property
    def rules(self) -> tuple[str, ...]:
        return (f"{self.prefix}<path:rest>",)

    def raw(self, *, rest: str = "", extension: str = "") -> str:
        """The raw remainder of the request path (from the route's arguments)."""
        return raw_rest(self.prefix, rest)

    def target(self, page: PageType, *, base: str, raw: str) -> Target:
        stem, explicit = split_extension(raw)
        decoded = check_name(stem, what=self.what)
        candidates = iri_candidates(base + self.iri_path, stem, decoded)
        document = self.prefix + stem
        return Target(page, candidates[0], document, explicit=explicit, candidates=candidates)

    def document_of(self, iri: str, *, base: str) -> str:
        """The path of the document describing `iri`, spelled one way whatever spelling a
        request used (for the IRI ``…/xocalı``: ``%c4%b1``, ``%C4%B1`` and ``ı`` all give
        ``xocal%C4%B1``). A percent-escape in the IRI itself is kept as minted."""
        return self.prefix + quote(iri[len(base + self.iri_path) :], safe=SAFE_IN_PATH)


@dataclass(frozen=True)
class NamedDocument:
    """One document at a fixed path (``/dataset``, ``/def/``) describing ``{base}{iri_path}``;
    its variants by extension (``/dataset.ttl``, ``/def.ttl``)."""

    document: str  # "/dataset", "/def/"
    iri_path: str  # "dataset", "def/"

    @property
    def rules(self) -> tuple[str, ...]:
        return (self.document, self.document.rstrip("/") + ".<extension>")

    def raw(self, *, rest: str = "", extension: str = "") -> str:
        return extension

    def target(self, page: PageType, *, base: str, raw: str) -> Target:
        return Target(page, base + self.iri_path, self.document, explicit=_explicit(raw))

    def document_of(self, iri: str, *, base: str) -> str:
        return self.document


def _explicit(extension: str) -> Format | None:
    """For /dataset.ttl-style routes the route captures only the extension."""
    if not extension:
        return None
    fmt = formats.by_extension(extension)
    if fmt is None:
        raise NotFound(
            f"no variant .{extension}; known: "
            + ", ".join("." + f.extension for f in formats.RESOURCE_FORMATS)
        )
    return fmt
