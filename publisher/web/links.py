"""IRIs <-> local paths: IRIs minted under the base are linked as paths on this server."""

from __future__ import annotations

from publisher.web.state import published


def local_link(iri: str) -> str:
    """A path on this server for IRIs under the base (so browsing works on any host); else the IRI."""
    base = published().base
    if iri.startswith(base):
        # The app serves the base at its root (mount it under a prefix with SCRIPT_NAME).
        return "/" + iri[len(base) :]
    return iri
