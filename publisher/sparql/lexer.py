"""A SPARQL tokenizer that knows where strings, IRIs and comments are.

pyoxigraph exposes no parse-only API (no algebra), so the checks that must happen *before*
evaluation (refusing SERVICE, updates, remote FROM) work on tokens. What matters for safety is
that a keyword inside a string, an IRI or a comment is never mistaken for one outside, and
that one outside is never hidden: the token rules follow the SPARQL 1.1 grammar's terminals
(IRIREF, the four string forms, comments, variables, prefixed names). Anything else becomes a
one-character punctuation token; the tokenizer never fails, the real parser judges validity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urljoin

_PN_CHARS = r"\w\u00B7\u00C0-\U0010FFFF\-"
_HEAD = re.compile(
    "|".join(
        (
            r"(?P<ws>\s+)",
            r"(?P<comment>#[^\n\r]*)",
            r"(?P<string>'''(?:'{0,2}(?:[^'\\]|\\.))*'''"
            r'|"""(?:"{0,2}(?:[^"\\]|\\.))*"""'
            r"|'(?:[^'\\\n\r]|\\.)*'"
            r'|"(?:[^"\\\n\r]|\\.)*")',
            r"(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)",
            rf"(?P<var>[?$][{_PN_CHARS}]+)",
            r"(?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)",
        )
    ),
    re.DOTALL,
)
# PNAME_NS / PNAME_LN / BLANK_NODE_LABEL: a local part may hold ':' and inner '.'.
_PNAME = re.compile(
    rf"(?P<pname>(?:[{_PN_CHARS}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)?:"
    rf"(?:[{_PN_CHARS}:%]|\\.|\.(?=[{_PN_CHARS}:%\\.]))*)"
)
# The run of name characters and dots a prefix would span (see `tokens`).
_NAME_RUN = re.compile(rf"[{_PN_CHARS}.]*")
_NAME_START = re.compile(rf"[{_PN_CHARS}]")
_TAIL = re.compile(
    "|".join(
        (
            r"(?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)",
            r"(?P<word>[A-Za-z_][A-Za-z0-9_]*)",
            r"(?P<punct>\^\^|&&|\|\||!=|<=|>=|.)",
        )
    ),
    re.DOTALL,
)
# One expression for the tokens most of a query is made of, tried first: the HEAD kinds (the
# same rules, in the same order), a number or word that no prefixed name can start (the next
# character is no name character, '.' or ':', so `_PNAME` would fail there) and punctuation
# that no other rule can begin with. It gives the token the rules below give
# (tests/test_sparql_lexer.py compares the two on the W3C and example queries and on fuzzed
# text) in one match instead of up to five: the tokens of the bench's mix queries took 89-96 µs
# a query, now 68-71 (medians of 30 alternated rounds). Anything else falls through to the
# rules below.
_NOT_A_NAME_AFTER = rf"(?![{_PN_CHARS}.:])"
_FAST = re.compile(
    "|".join(
        (
            _HEAD.pattern,
            r"(?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?)" + _NOT_A_NAME_AFTER,
            r"(?P<word>[A-Za-z_][A-Za-z0-9_]*)" + _NOT_A_NAME_AFTER,
            r"(?P<punct>[{}()\[\];,*=/+])",
        )
    ),
    re.DOTALL,
)
OPENING = {"(": ")", "{": "}", "[": "]"}
CLOSING = frozenset(OPENING.values())


class Token(NamedTuple):  # a tuple: made a million times for a long query
    kind: str  # ws, comment, string, iri, var, langtag, pname, number, word, punct
    text: str
    start: int
    end: int

    @property
    def keyword(self) -> str:
        """The upper-cased word (SPARQL keywords are case-insensitive); '' for other tokens."""
        return self.text.upper() if self.kind == "word" else ""


def tokens(text: str, *, significant: bool = True) -> Iterator[Token]:
    """Tokens of `text`; with `significant`, whitespace and comments are left out.

    Linear in the length of the text. A prefixed name is the one token whose regular
    expression scans ahead (through a run of name characters and dots, for the ':'), and a
    failed scan used to be repeated from every position of the run: quadratic ("é" * 20,000
    took about 10 s). A prefix can only end where the run ends, so once the scan failed at a
    run's first character it fails everywhere up to the run's end and is not tried again.
    """
    return _scan(text, significant=significant, first=_FAST)


def _scan(text: str, *, significant: bool, first: re.Pattern[str]) -> Iterator[Token]:
    """`tokens`, trying `first` (`_FAST`, or `_HEAD`: the rules alone) at each position."""
    position, end = 0, len(text)
    no_prefix_before = 0  # positions below this are known not to start a prefixed name
    while position < end:
        match = first.match(text, position)
        if match is None and position >= no_prefix_before:
            match = _PNAME.match(text, position)
            if match is None and _NAME_START.match(text, position):
                run = _NAME_RUN.match(text, position)
                no_prefix_before = run.end() if run else position
        if match is None:
            match = _TAIL.match(text, position)
        assert match is not None  # punct matches any character
        kind = match.lastgroup or "punct"
        position = match.end()
        if significant and kind in ("ws", "comment"):
            continue
        yield Token(kind, match.group(), match.start(), position)


def resolve_iri(base: str, reference: str) -> str:
    """RFC 3986 resolution; unlike bare urljoin, keeps an empty fragment ('...rdf-schema#')."""
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", reference):
        return reference  # already absolute: keep it exactly as written
    resolved = urljoin(base, reference)
    if reference.endswith("#") and not resolved.endswith("#"):
        resolved += "#"
    return resolved


@dataclass(frozen=True)
class Prologue:
    """BASE and PREFIX declarations seen so far, to resolve IRIs the way the parser will."""

    base: str
    prefixes: dict[str, str]

    def resolve(self, token: Token) -> str | None:
        if token.kind == "iri":
            return resolve_iri(self.base, token.text[1:-1])
        if token.kind == "pname" and not token.text.startswith("_:"):
            prefix, _, local = token.text.partition(":")
            namespace = self.prefixes.get(prefix)
            if namespace is None:
                return None
            return namespace + re.sub(r"\\(.)", r"\1", local)
        return None


def absolutize(text: str, *, base: str) -> str:
    """The same query with every relative IRI resolved against `base` (and BASE honoured).

    Used to show example queries that are written with relative IRIs (``PREFIX kg: <def/>``)
    as they will run, so that they can be copied to any other SPARQL client.
    """
    pieces: list[str] = []
    current_base = base
    previous_keyword = ""
    last = 0
    for token in tokens(text, significant=False):
        if token.kind == "iri":
            absolute = resolve_iri(current_base, token.text[1:-1])
            if previous_keyword == "BASE":
                current_base = absolute
            pieces.append(text[last : token.start] + f"<{absolute}>")
            last = token.end
        if token.kind not in ("ws", "comment"):
            previous_keyword = token.keyword
    pieces.append(text[last:])
    return "".join(pieces)
