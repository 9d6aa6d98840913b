"""Can XML carry these terms? Checked before writing RDF/XML or SPARQL XML results.

XML 1.0 cannot carry most C0 control characters (NUL, BEL, ESC ...) or U+FFFE/U+FFFF, not even
as character references, and RDF/XML can only write a predicate whose IRI ends in an XML name
(an NCName: ``…#label``, not ``javascript:alert('p')``). pyoxigraph writes such terms anyway,
and the document is not well-formed. Callers refuse that representation instead (a 406 that
names the term and offers the other formats, or an RDF/XML dump left out with a reason).
Imports only pyoxigraph: the query worker uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyoxigraph as ox

# Characters outside XML 1.0's Char production (Python str holds no lone surrogates
# coming from pyoxigraph, but they are excluded too).
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_NAME_START = (
    "A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_NAME_CHAR = _NAME_START + "\\-.0-9\u00b7\u0300-\u036f\u203f-\u2040"
# A predicate IRI RDF/XML can write: it ends with an NCName (the element's local name).
_ENDS_WITH_NCNAME = re.compile(f"[{_NAME_START}][{_NAME_CHAR}]*\\Z")


_FORBIDDEN_CONTROLS = frozenset([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# The same characters as UTF-8 bytes: a fast check of a whole serialized document.
_NOT_XML_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


# Bytes of the forbidden controls -> 0, every other byte -> 1 (for bytes.translate).
_CONTROLS_TO_NUL = bytes(0 if b in _FORBIDDEN_CONTROLS else 1 for b in range(256))


def has_forbidden_bytes(document: bytes) -> bool:
    """Does this UTF-8 document hold a character XML 1.0 cannot carry? The regex runs only
    when a cheap scan (translate and find: 6x faster on the dumps' RDF/XML) says it may."""
    maybe = b"\xef\xbf" in document or b"\x00" in document.translate(_CONTROLS_TO_NUL)
    return maybe and _NOT_XML_BYTES.search(document) is not None


class NotXmlSafe(ValueError):
    """A term XML cannot carry; the message names it."""


def _describe_char(text: str) -> str:
    found = _NOT_XML_CHAR.search(text)
    assert found is not None
    return f"U+{ord(found.group(0)):04X}"


def _term_text(term: object) -> Iterable[tuple[str, str]]:
    """(what, text) pairs of a term that end up as XML character data or attribute values."""
    if isinstance(term, ox.Literal):
        yield "literal", term.value
        if term.language:
            yield "language tag", term.language
        yield "datatype", term.datatype.value
    elif isinstance(term, ox.NamedNode):
        yield "IRI", term.value
    elif isinstance(term, ox.BlankNode):
        yield "blank node", term.value
    elif isinstance(term, ox.Triple):
        for part in (term.subject, term.predicate, term.object):
            yield from _term_text(part)


def _short(text: str) -> str:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return shown.encode("unicode_escape").decode("ascii")


def term_problem(term: object) -> str | None:
    """Why XML cannot carry this term (any position), or None."""
    for what, text in _term_text(term):
        if _NOT_XML_CHAR.search(text):
            return f"the {what} {_short(text)!r} contains {_describe_char(text)}, which XML 1.0 cannot carry"
    return None


def predicate_problem(predicate: ox.NamedNode) -> str | None:
    if not _ENDS_WITH_NCNAME.search(predicate.value):
        return (
            f"the predicate <{_short(predicate.value)}> does not end with an XML name, "
            "so RDF/XML cannot write it as an element"
        )
    return None


def rdf_xml_problem(statements: Iterable[ox.Triple | ox.Quad]) -> str | None:
    """The first reason RDF/XML cannot carry these statements, or None."""
    checked_predicates: set[ox.NamedNode] = set()
    for statement in statements:
        if statement.predicate not in checked_predicates:
            if problem := predicate_problem(statement.predicate):
                return problem
            checked_predicates.add(statement.predicate)
        for term in (statement.subject, statement.object):
            if problem := term_problem(term):
                return problem
    return None


def check_rdf_xml(statements: Iterable[ox.Triple | ox.Quad]) -> None:
    if problem := rdf_xml_problem(statements):
        raise NotXmlSafe(f"RDF/XML cannot represent this: {problem}")


def check_results_xml(body: bytes, *, alternatives: str) -> None:
    """SPARQL XML results as written: refuse them if they hold a character XML cannot carry."""
    found = _NOT_XML_BYTES.search(body)
    if found is None:
        return
    text = body[max(0, found.start() - 40) : found.end() + 20].decode("utf-8", "replace")
    raise NotXmlSafe(
        f"SPARQL XML results cannot represent this result: it contains "
        f"{_describe_char(found.group(0).decode('utf-8'))}, which XML 1.0 cannot carry "
        f"(near {_short(text)!r}); ask for {alternatives} instead"
    )
