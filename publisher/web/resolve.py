"""Request path -> the IRI it names: the first step of every linked-data request.

The IRI is built from the path as the client sent it (percent-encoding kept), because an IRI
with ``%20`` and one with a space (or ``%C4%B1`` and ``ı``) are different terms in RDF. Both
spellings are tried, the one present in the store wins, so IRIs minted either way round-trip.
A path that cannot name anything (empty or dot segments, bytes that are not UTF-8, control
characters) is a 400, never a lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote, unquote

import pyoxigraph as ox
from flask import request

from publisher import formats
from publisher.formats import Format
from publisher.web.errors import BadRequest, NotFound

MAX_PATH_LENGTH = 2_048
# Characters RFC 3987 does not allow in an IRI (after percent-decoding they cannot be minted).
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f<>\"{}|\\^`\ufffd]")
# Characters kept as they are when re-encoding a decoded path (RFC 3986 pchar + "/" + "%").
_SAFE = "/:@!$&'()*+,;=-._~%"


class Kind(Enum):
    THING = "thing"  # /doc/{type}/{slug} describes {base}id/{type}/{slug}
    TERM = "term"  # /def/{Term}
    ONTOLOGY = "ontology"  # /def/ (the ontology IRI {base}def/)
    GRAPH = "graph"  # /graph/{slug}
    DATASET = "dataset"  # /dataset (dist/void.ttl)
    SHAPES = "shapes"  # /shapes (dist/shapes.ttl)


@dataclass(frozen=True)
class Target:
    """What a request is about: the IRI described and the URL of its generic document."""

    kind: Kind
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
    return quote(raw, safe=_SAFE)


def raw_rest(prefix: str, rest: str) -> str:
    """The raw (still percent-encoded) remainder of the path after a route prefix like /doc/."""
    raw = raw_path()
    if raw.startswith(prefix) and _decode(raw[len(prefix) :]) == rest:
        return raw[len(prefix) :]
    return quote(rest, safe=_SAFE)


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
        quote(decoded, safe=_SAFE.replace("%", "")),  # %-encode everything not ASCII-safe
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


def resolve(kind: Kind, *, base: str, prefix: str, raw_rest: str) -> Target:
    """Target for a request under `prefix` (e.g. '/doc/') whose remaining raw path is `raw_rest`.

    THING names live under {base}id/ but are served under /doc/; the others are served at
    their own IRI's path.
    """
    if kind is Kind.ONTOLOGY:
        return Target(kind, base + "def/", "/def/", explicit=_explicit(raw_rest))
    if kind in (Kind.DATASET, Kind.SHAPES):
        name = kind.value
        return Target(kind, base + name, "/" + name, explicit=_explicit(raw_rest))
    stem, explicit = split_extension(raw_rest)
    what = {
        Kind.THING: "/doc/{type}/{slug}",
        Kind.TERM: "/def/{Term}",
        Kind.GRAPH: "/graph/{slug}",
    }[kind]
    decoded = check_name(stem, what=what)
    iri_prefix = base + ("id/" if kind is Kind.THING else prefix.strip("/") + "/")
    candidates = iri_candidates(iri_prefix, stem, decoded)
    return Target(kind, candidates[0], prefix + stem, explicit=explicit, candidates=candidates)


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
