"""The term syntax of Triple Pattern Fragments parameters, both ways.

What clients send (the TPF specification, and Comunica's rdf-string): an IRI as is
(`http://…`, or in angle brackets), a literal as `"text"`, `"text"@lang`, `"text"^^datatype`
(the datatype with or without angle brackets; the text runs to the LAST quote, unescaped), a
blank node as `_:label`, and a variable as an empty value or `?name`. The same syntax is written
back into the links a fragment gives (hydra:first/next/previous), so a client follows them as is.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")

Term = ox.NamedNode | ox.BlankNode | ox.Literal


class TermSyntaxError(ValueError):
    """A parameter that is not a term in the fragments syntax; the message says why."""


def parse_term(raw: str) -> Term | None:
    """A parameter value -> a term, or None for a variable."""
    value = raw.strip()
    if not value or value.startswith("?"):
        return None
    if value.startswith('"'):
        return _literal(value)
    if value.startswith("_:"):
        label = value[2:]
        if not label:
            raise TermSyntaxError("a blank node needs a label after '_:'")
        try:
            return ox.BlankNode(label)
        except ValueError as error:
            raise TermSyntaxError(f"{value!r} is not a blank node label: {error}") from error
    if value.startswith("<<"):
        raise TermSyntaxError("triple terms (<< >>) are not supported in fragments")
    return _iri(value[1:-1] if value.startswith("<") and value.endswith(">") else value)


def _iri(value: str) -> ox.NamedNode:
    if not _ABSOLUTE_IRI.match(value):
        raise TermSyntaxError(
            f'{value!r} is not an absolute IRI (a literal is written in quotes: "text"@en)'
        )
    try:
        return ox.NamedNode(value)
    except ValueError as error:
        raise TermSyntaxError(f"{value!r} is not a valid IRI: {error}") from error


def _literal(value: str) -> ox.Literal:
    end = value.rfind('"')
    if end == 0:
        raise TermSyntaxError(f"{value!r}: a literal needs a closing quote")
    text, suffix = value[1:end], value[end + 1 :]
    if not suffix:
        return ox.Literal(text)
    if suffix.startswith("@"):
        language = suffix[1:]
        if not _LANGUAGE.fullmatch(language):
            raise TermSyntaxError(f"{language!r} is not a language tag")
        return ox.Literal(text, language=language)
    if suffix.startswith("^^"):
        datatype = suffix[2:]
        if datatype.startswith("<") and datatype.endswith(">"):
            datatype = datatype[1:-1]
        return ox.Literal(text, datatype=_iri(datatype))
    raise TermSyntaxError(f"{value!r}: after the closing quote only @lang or ^^datatype may follow")


def format_term(term: Term) -> str:
    """A term in the syntax parse_term reads (the inverse on every term it accepts)."""
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if term.language:
        return f'"{term.value}"@{term.language}'
    if term.datatype.value == XSD_STRING:
        return f'"{term.value}"'
    return f'"{term.value}"^^{term.datatype.value}'


def query_string(parameters: dict[str, Term | None], *, page: int | None = None) -> str:
    """`?subject=…&predicate=…` for the bound positions (and the page), in a fixed order."""
    pairs = [(name, format_term(term)) for name, term in parameters.items() if term is not None]
    if page is not None and page > 1:
        pairs.append(("page", str(page)))
    return "?" + urlencode(pairs) if pairs else ""
