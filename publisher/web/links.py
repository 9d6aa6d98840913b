"""IRIs <-> local paths: IRIs minted under the base are linked as paths on this server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from publisher.web.state import published

if TYPE_CHECKING:
    from publisher.web.labels import Labels


@dataclass
class Link:
    """A link as pages show it: where it goes, its label (and that label's language), the IRI."""

    href: str
    text: str
    lang: str | None
    iri: str


def local_link(iri: str) -> str:
    """A path on this server for IRIs under the base (so browsing works on any host); else the IRI."""
    base = published().base
    if iri.startswith(base):
        # The app serves the base at its root (mount it under a prefix with SCRIPT_NAME).
        return "/" + iri[len(base) :]
    return iri


def labelled_link(labels: Labels, iri: str) -> Link:
    text, lang = labels.text(iri)
    return Link(local_link(iri), text, lang, iri)
