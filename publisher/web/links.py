"""IRIs <-> local paths: IRIs minted under the base are linked as paths on this server."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from publisher.web.state import served_build

if TYPE_CHECKING:
    from publisher.web.labels import Labels


@dataclass
class Link:
    """A link as pages show it: where it goes, its label (and that label's language), the IRI."""

    href: str
    text: str
    lang: str | None
    iri: str


# Schemes a page may link to. Anything else in the data (javascript:, data:, vbscript:, a
# scheme-relative //host, a relative reference) is shown as text, never as a clickable link.
LINKABLE_SCHEMES = ("http://", "https://")


def local_link(iri: str) -> str:
    """Where a page links an IRI: a path on this server for IRIs under the base (so browsing
    works on any host), the IRI itself when it is http(s), else "" (not linked)."""
    base = served_build().base
    if not safe_href(iri):
        return ""
    rest = iri[len(base) :]
    if iri.startswith(base) and not rest.startswith("/"):
        # The app serves the base at its root. ("//x" would be a link to the host x: such an
        # IRI keeps its absolute form.)
        return "/" + rest
    return iri


def safe_href(iri: str) -> bool:
    """An absolute http(s) IRI with a host and no characters a browser would strip or bend."""
    lowered = iri.lower()
    if not lowered.startswith(LINKABLE_SCHEMES):
        return False
    host = lowered.split("://", 1)[1]
    # Browsers drop tabs and newlines inside URLs and treat "\\" as "/": refuse all of them.
    return bool(host) and not host.startswith("/") and not any(c in iri for c in "\t\n\r\\ ")


def labelled_link(labels: Labels, iri: str) -> Link:
    text, lang = labels.text(iri)
    return Link(local_link(iri), text, lang, iri)


def query_href(sparql: str) -> str:
    """A link to the query page with `sparql` in it (run on arrival): "the rest is one query away"."""
    return "/sparql?" + urlencode({"query": sparql})
