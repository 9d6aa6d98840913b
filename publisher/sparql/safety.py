"""What is refused before any evaluation: updates, SERVICE, LOAD, FROM outside the dataset.

pyoxigraph follows SERVICE with real outbound HTTP (even SILENT, with no timeout) and
LOAD fetches URLs; neither can be switched off, so they are refused here, on the tokens
(see ``lexer``), before a worker ever sees the text. The query workers also run without
the right to open sockets (``publisher.store.sandbox``), so a gap here would still make
no connection: this module is what gives the clear message.

FROM / FROM NAMED are never fetched by pyoxigraph; an IRI that is not a graph of the
dataset is refused all the same, because a user writing ``FROM <http://dbpedia.org/>``
expects remote data and would otherwise silently get nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from publisher.settings import SETTINGS, describe_setting
from publisher.sparql.errors import (
    ForeignGraphRefused,
    InvalidQueryRequest,
    QueryRefused,
    QueryTooLarge,
)
from publisher.sparql.lexer import CLOSING, OPENING, Prologue, Token, tokens

DEFAULTS = {setting.name: setting.default for setting in SETTINGS}
QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
# Keywords of SPARQL Update that never occur in a query (as bare words).
UPDATE_KEYWORDS = frozenset(
    ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
)


@dataclass(frozen=True)
class QueryShape:
    """What the checks learnt about a query without evaluating it."""

    form: str  # SELECT, CONSTRUCT, DESCRIBE, ASK; SELECT when the text has none (a syntax error)
    from_graphs: tuple[str, ...] = ()
    from_named_graphs: tuple[str, ...] = ()

    @property
    def has_dataset_clause(self) -> bool:
        return bool(self.from_graphs or self.from_named_graphs)

    @property
    def is_graph(self) -> bool:
        """CONSTRUCT and DESCRIBE answer RDF; SELECT and ASK answer result sets."""
        return self.form in ("CONSTRUCT", "DESCRIBE")


def refuse_update(operation: str) -> QueryRefused:
    return QueryRefused(
        f"{operation}: this endpoint is read-only; SPARQL Update (INSERT, DELETE, LOAD, CLEAR, "
        "DROP, CREATE, ADD, MOVE, COPY) is refused and nothing was changed."
    )


def check_query(
    text: str,
    *,
    base: str,
    graphs: Collection[str],
    protocol_dataset: bool,
    max_tokens: int = DEFAULTS["sparql_max_query_tokens"],
    max_depth: int = DEFAULTS["sparql_max_nesting_depth"],
    max_operators: int = DEFAULTS["sparql_max_operators"],
) -> QueryShape:
    """Refuse what must not run; return the query's shape.

    `graphs` are the dataset's named graphs; `protocol_dataset` says whether the request set
    default-graph-uri / named-graph-uri, which override FROM (so FROM is not checked then).
    """
    significant = significant_tokens(
        text, max_tokens=max_tokens, max_depth=max_depth, max_operators=max_operators
    )
    form = ""
    prologue = Prologue(base=base, prefixes={})
    from_graphs: list[str] = []
    from_named: list[str] = []
    for index, token in enumerate(significant):
        keyword = token.keyword
        if keyword == "SERVICE":
            raise QueryRefused(
                "SERVICE (federated query) is refused: this endpoint never makes outbound "
                "requests. Query the other endpoint yourself and combine the results."
            )
        if keyword in UPDATE_KEYWORDS:
            raise refuse_update(f"{keyword} is a SPARQL Update operation")
        if not form and keyword in QUERY_FORMS:
            form = keyword
        if not form:
            prologue = _declare(prologue, significant, index)
        if keyword == "FROM":
            rest = significant[index + 1 : index + 3]
            named = bool(rest) and rest[0].keyword == "NAMED"
            target = rest[-1] if named else rest[0] if rest else None
            iri = prologue.resolve(target) if target is not None else None
            if iri is not None:
                (from_named if named else from_graphs).append(iri)
    shape = QueryShape(form or "SELECT", tuple(from_graphs), tuple(from_named))
    if not protocol_dataset:
        unknown = [g for g in (*shape.from_graphs, *shape.from_named_graphs) if g not in graphs]
        if unknown:
            raise ForeignGraphRefused(
                f"FROM <{unknown[0]}> is not a graph of this dataset: this endpoint never "
                "fetches remote data. Use FROM / FROM NAMED (or default-graph-uri / "
                "named-graph-uri) only with the dataset's graphs, listed by the service "
                "description (GET /sparql with Accept: text/turtle)."
            )
    return shape


# Tokens that join what stands beside them into one more level of the query's algebra: a row
# of thousands nests nothing, yet parsers, optimizers and evaluators recurse once per level.
CHAIN_KEYWORDS = frozenset(("UNION", "OPTIONAL", "MINUS", "BIND", "FILTER"))
CHAIN_PUNCTUATION = frozenset(("{", ".", ";", "||", "&&", "+", "-", "*", "/", "|", "!"))


def significant_tokens(
    text: str,
    *,
    max_tokens: int,
    max_depth: int,
    max_operators: int = DEFAULTS["sparql_max_operators"],
) -> list[Token]:
    """The tokens, refusing a query with too many of them, nested too deep, or with too many
    operators (`max_operators`, 0: no limit).

    All are checked while reading, so a hostile text costs at most `max_tokens` tokens of
    (linear) work; the nesting check keeps the parser from overflowing its stack (a query
    nested 3,000 deep crashed the worker that parsed it), the operator count does the same
    for chains (3,000 MINUS in a row crashed an Oxigraph server behind the remote store).
    VALUES data is not counted: its rows are flat, and `-1` lexes as an operator.
    """
    found: list[Token] = []
    depth = 0
    for token in tokens(text):
        found.append(token)
        if len(found) > max_tokens:
            raise QueryTooLarge(
                f"the query has more than {max_tokens} tokens, the limit set by "
                f"{describe_setting('sparql_max_query_tokens')}",
                setting="sparql_max_query_tokens",
            )
        if token.kind != "punct":
            continue
        if token.text in OPENING:
            depth += 1
            if depth > max_depth:
                raise InvalidQueryRequest(
                    f"the query nests (), {{}} or [] more than {max_depth} levels deep (at "
                    f"character {token.start}), the limit set by "
                    f"{describe_setting('sparql_max_nesting_depth')}",
                    setting="sparql_max_nesting_depth",
                )
        elif token.text in CLOSING:
            depth = max(0, depth - 1)
    # A query has fewer operators than tokens: most queries are not counted at all.
    if 0 < max_operators < len(found):
        _count_operators(found, max_operators=max_operators)
    return found


def _count_operators(found: list[Token], *, max_operators: int) -> None:
    """Refuse more than `max_operators` operators, VALUES data not counted."""
    operators = 0
    depth = 0
    values_depth = 0  # the depth of an open VALUES data block, 0 outside one
    values_next = False  # VALUES was read: its block opens at the next {
    for token in found:
        kind = token.kind
        if kind == "punct":
            text = token.text
            if text in OPENING:
                depth += 1
                if values_next and text == "{":
                    values_depth, values_next = depth, False
            elif text in CLOSING:
                if depth == values_depth:
                    values_depth = 0
                depth -= 1
            if text not in CHAIN_PUNCTUATION or values_depth:
                continue
        elif kind == "word":
            word = token.keyword
            if word not in CHAIN_KEYWORDS or values_depth:
                values_next = values_next or word == "VALUES"
                continue
        else:
            continue
        operators += 1
        if operators > max_operators:
            raise InvalidQueryRequest(
                f"the query has more than {max_operators} operators (UNION, OPTIONAL, MINUS, "
                f"BIND, FILTER, {{, ., ;, ||, &&, +, -, *, /, |, !; at character "
                f"{token.start}), the limit set by {describe_setting('sparql_max_operators')}",
                setting="sparql_max_operators",
            )


def _declare(prologue: Prologue, significant: list[Token], index: int) -> Prologue:
    """Apply a BASE or PREFIX declaration that starts at `index` (prologue only)."""
    token = significant[index]
    if token.keyword == "BASE" and index + 1 < len(significant):
        iri = (
            prologue.resolve(significant[index + 1])
            if significant[index + 1].kind == "iri"
            else None
        )
        if iri:
            return Prologue(base=iri, prefixes=prologue.prefixes)
    if token.keyword == "PREFIX" and index + 2 < len(significant):
        name, target = significant[index + 1], significant[index + 2]
        if name.kind == "pname" and name.text.endswith(":") and target.kind == "iri":
            iri = prologue.resolve(target)
            if iri is not None:
                return Prologue(
                    base=prologue.base, prefixes={**prologue.prefixes, name.text[:-1]: iri}
                )
    return prologue
