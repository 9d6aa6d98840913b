"""/dumps/: the files of dist/ with size, checksum and media type; Range, HEAD, ETag."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, render_template, request, send_file

from publisher import formats
from publisher.dist import SUMS_FILE
from publisher.web.compression import accepts_gzip
from publisher.web.errors import NotFound
from publisher.web.http import cached
from publisher.web.state import ServedBuild, served_build

blueprint = Blueprint("dumps", __name__)
CHUNK = 1 << 16


@dataclass(frozen=True)
class DumpFile:
    name: str
    size: int
    sha256: str
    media_type: str
    holds: str


def dump_files() -> list[DumpFile]:
    """The published files (not the store directory), read once per process and build."""
    return dump_files_of(served_build())


def dump_files_of(state: ServedBuild) -> list[DumpFile]:
    return state.memo("dump_files", lambda: _read_dump_files(state.dist))


def _read_dump_files(dist: Path) -> list[DumpFile]:
    sums = {}
    for line in (dist / SUMS_FILE).read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        sums[name] = digest
    return [
        DumpFile(
            path.name,
            path.stat().st_size,
            sums.get(path.name, ""),
            *formats.describe_file(path.name),
        )
        for path in sorted(dist.iterdir())
        if inside(path, dist)
    ]


def inside(path: Path, dist: Path) -> bool:
    """A regular file of dist/ itself: a symbolic link (which could point anywhere on the
    machine) is never listed nor served."""
    return not path.is_symlink() and path.is_file() and path.resolve().parent == dist


@blueprint.get("/dumps/")
def listing() -> Response:
    body = render_template("dumps.html", files=dump_files())
    return cached(Response(body, content_type="text/html; charset=utf-8"), etag_suffix="dumps")


def plain_dump(name: str) -> DumpFile | None:
    """The stored .gz file behind a dump's plain name (dataset.ttl -> dataset.ttl.gz)."""
    if not name.startswith("dataset.") or name.endswith(".gz"):
        return None
    return next((f for f in dump_files() if f.name == name + ".gz"), None)


def _decompressed(path: Path) -> Iterator[bytes]:
    with gzip.open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def download_plain(name: str, stored: DumpFile) -> Response:
    """A dump under its plain name (dataset.ttl), from the same stored .gz bytes.

    Clients that accept gzip get those bytes with ``Content-Encoding: gzip`` (and their
    published SHA-256 as Content-Digest); others (rdflib, Comunica, a plain urllib) get them
    decompressed on the fly. Either way the Content-Type is the RDF format's own.
    """
    state = served_build()
    media_type = formats.describe_file(name)[0]
    path: Path = state.dist / stored.name
    if accepts_gzip():
        response = send_file(
            path,
            mimetype=media_type,
            conditional=True,
            etag=f"{stored.sha256}-gzip",
            last_modified=state.last_modified,
            max_age=300,
        )
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Accept-Ranges"] = "bytes"  # ranges of the encoded bytes
        if stored.sha256:
            # RFC 9530: the digest of the content as sent (the .gz file's bytes).
            response.headers["Content-Digest"] = f"sha-256=:{_b64(stored.sha256)}:"
    else:
        response = Response(_decompressed(path), mimetype=media_type)
        response.set_etag(f"{stored.sha256}-identity")
        response.last_modified = state.last_modified
        response.cache_control.public = True
        response.cache_control.max_age = 300
        response.headers["Accept-Ranges"] = "none"
        response = response.make_conditional(request)
    response.headers["Content-Type"] = media_type
    response.vary.add("Accept-Encoding")
    response.headers["Link"] = (
        f'<{request.script_root}/dumps/{stored.name}>; rel="alternate"; type="application/gzip"'
    )
    return response


@blueprint.get("/dumps/<name>")
def download(name: str) -> Response:
    found = next((f for f in dump_files() if f.name == name), None)
    if found is None:
        if (stored := plain_dump(name)) is not None:
            return download_plain(name, stored)
        raise NotFound(f"no dump file named {name!r}; see /dumps/ for the list")
    dist = served_build().dist
    path: Path = dist / found.name
    if not inside(path, dist):
        # Replaced by a link, or removed, since the build was opened.
        raise NotFound(f"the dump file {name!r} is not available; see /dumps/ for the list")
    response = send_file(
        path,
        mimetype=found.media_type,
        conditional=True,
        etag=found.sha256 or True,
        last_modified=served_build().last_modified,
        max_age=300,
    )
    # send_file appends "; charset=utf-8" to text types itself: set the table's value as is.
    response.headers["Content-Type"] = found.media_type
    if found.sha256:
        # RFC 3230 instance digest, so a download can be checked without SHA256SUMS.
        response.headers["Digest"] = "sha-256=" + _b64(found.sha256)
    response.headers["Accept-Ranges"] = "bytes"
    return response


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")
