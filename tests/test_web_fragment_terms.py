"""The fragments' term syntax (publisher/web/fragment_terms.py): what clients send, both ways."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from publisher.web.fragment_terms import TermSyntaxError, format_term, parse_term, query_string

XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")


@pytest.mark.parametrize(
    ("raw", "term"),
    [
        ("http://example.org/a", ox.NamedNode("http://example.org/a")),
        ("<http://example.org/a>", ox.NamedNode("http://example.org/a")),
        ('"Xocalı"@az', ox.Literal("Xocalı", language="az")),
        ('"Ходжалы"@ru', ox.Literal("Ходжалы", language="ru")),
        ('"plain"', ox.Literal("plain")),
        (
            '"613"^^http://www.w3.org/2001/XMLSchema#integer',
            ox.Literal("613", datatype=XSD_INTEGER),
        ),
        (
            '"613"^^<http://www.w3.org/2001/XMLSchema#integer>',
            ox.Literal("613", datatype=XSD_INTEGER),
        ),
        # Comunica's rdf-string writes the text raw: it runs to the last quote.
        ('"He said "no""@en', ox.Literal('He said "no"', language="en")),
        ('""', ox.Literal("")),
        ("_:b0", ox.BlankNode("b0")),
    ],
)
def test_terms_clients_send(raw: str, term) -> None:
    assert parse_term(raw) == term
    assert parse_term(format_term(term)) == term


@pytest.mark.parametrize("raw", ["", "   ", "?s", "?anything"])
def test_variables(raw: str) -> None:
    assert parse_term(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "not an iri",
        "relative/path",
        "http://exa mple.org/",
        '"unterminated',
        '"x"@',
        '"x"@not_a_tag!',
        '"x"^^not-absolute',
        '"x"junk',
        "_:",
        "<<http://a http://b http://c>>",
    ],
)
def test_malformed_terms_say_why(raw: str) -> None:
    with pytest.raises(TermSyntaxError) as caught:
        parse_term(raw)
    assert str(caught.value)


def test_query_string_keeps_bound_positions_in_order_and_the_page() -> None:
    terms = {
        "subject": None,
        "predicate": ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
        "object": ox.Literal("Xocalı", language="az"),
        "graph": None,
    }
    assert query_string(terms) == (
        "?predicate=http%3A%2F%2Fwww.w3.org%2F2000%2F01%2Frdf-schema%23label"
        "&object=%22Xocal%C4%B1%22%40az"
    )
    assert query_string(terms, page=3).endswith("&page=3")
    assert query_string({"subject": None}) == ""
