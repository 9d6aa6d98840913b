"""The refusals are made on tokens: keywords in strings, IRIs and comments do not count."""

from __future__ import annotations

import pytest

from publisher.sparql.errors import ForeignGraphRefused, InvalidQueryRequest, QueryRefused
from publisher.sparql.lexer import absolutize
from publisher.sparql.safety import check_query

BASE = "http://www.example/"
GRAPHS = {"http://www.example/graph/a", "http://www.example/graph/b"}


def check(query: str, *, protocol_dataset: bool = False, **limits: int):
    return check_query(query, base=BASE, graphs=GRAPHS, protocol_dataset=protocol_dataset, **limits)


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * WHERE { ?s ?p "SERVICE <http://x/> { }" }',
        "SELECT * WHERE { ?s ?p '''LOAD\nINSERT''' }",
        "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o } # SERVICE <http://x/>",
        "PREFIX insert: <http://e/> SELECT * WHERE { ?s insert:delete ?load }",
        'SELECT ?service WHERE { ?service ?p "x"@en }',
        "ASK { FILTER(1 < 2 && 3 > 2) }",
        "SELECT * WHERE { ?s ?p ?o FILTER(?o != 'drop') }",
    ],
)
def test_keywords_inside_strings_iris_comments_and_names_are_allowed(query: str) -> None:
    check(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }",
        "select * where { service silent <http://x/> { ?s ?p ?o } }",
        "SELECT * WHERE { SeRvIcE ?endpoint { ?s ?p ?o } }",
        "SELECT * WHERE { ?s ?p ?o . SERVICE#c\n<http://x/>{} }",
        "SELECT * WHERE { ?s ?p 'a' SERVICE <http://x/> {} }",
    ],
)
def test_service_is_refused(query: str) -> None:
    with pytest.raises(QueryRefused, match="SERVICE"):
        check(query)


@pytest.mark.parametrize(
    "update",
    [
        "LOAD <http://x/>",
        "CLEAR ALL",
        "DROP SILENT GRAPH <http://www.example/graph/a>",
        "INSERT DATA { <a> <b> <c> }",
        "PREFIX x: <http://x/> DELETE WHERE { ?s ?p ?o }",
        "WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "CREATE GRAPH <http://g>",
        "ADD DEFAULT TO <http://g>",
        "MOVE <http://a> TO <http://b>",
        "COPY <http://a> TO <http://b>",
    ],
)
def test_updates_are_refused(update: str) -> None:
    with pytest.raises(QueryRefused, match="read-only"):
        check(update)


def test_from_is_resolved_and_restricted_to_the_dataset() -> None:
    shape = check(
        "BASE <http://www.example/graph/> PREFIX g: <http://www.example/graph/> "
        "SELECT * FROM <a> FROM NAMED g:b WHERE { ?s ?p ?o }"
    )
    assert shape.from_graphs == ("http://www.example/graph/a",)
    assert shape.from_named_graphs == ("http://www.example/graph/b",)
    with pytest.raises(ForeignGraphRefused, match="not a graph of this dataset"):
        check("SELECT * FROM <http://dbpedia.org/> WHERE { ?s ?p ?o }")
    with pytest.raises(ForeignGraphRefused, match="never"):
        check("SELECT * FROM NAMED <graph/zzz> WHERE { ?s ?p ?o }")
    # The protocol dataset replaces FROM, so FROM is not checked then.
    check("SELECT * FROM <http://dbpedia.org/> WHERE { ?s ?p ?o }", protocol_dataset=True)


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("PREFIX a: <http://a/> SELECT * {}", "SELECT"),
        ("BASE <http://b/> ASK {}", "ASK"),
        ("construct where { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <x>", "DESCRIBE"),
        ("ASK { { SELECT * {} } }", "ASK"),
    ],
)
def test_query_form(query: str, form: str) -> None:
    assert check(query).form == form


def test_absolutize_fills_in_relative_iris() -> None:
    text = "# Question: <not an iri> here\nPREFIX kg: <def/>\nSELECT * { <id/x> kg:p '<id/y>' }"
    assert absolutize(text, base=BASE) == (
        "# Question: <not an iri> here\nPREFIX kg: <http://www.example/def/>\n"
        "SELECT * { <http://www.example/id/x> kg:p '<id/y>' }"
    )


# --- the operator count: chains nest nothing, yet engines recurse once per link -------------


def links(n: int, link: str) -> str:
    return "SELECT * WHERE { ?s ?p ?o " + link * n + "}"


@pytest.mark.parametrize(
    "link",
    [
        "MINUS { ?s <urn:x:q> ?o } ",  # 2 operators: MINUS and {
        "OPTIONAL { ?s <urn:x:q> ?o } ",
        "UNION { ?s ?p ?o } ",
        "BIND(1 AS ?v) FILTER(true) ",  # 2: BIND and FILTER
        ". ?s <urn:x:q> ?o ; <urn:x:r> ?o ",  # 2: the separators . and ;
    ],
)
def test_a_chain_over_the_operator_limit_is_refused_naming_the_setting(link: str) -> None:
    with pytest.raises(InvalidQueryRequest) as refused:
        check(links(1_500, link))
    assert refused.value.setting == "sparql_max_operators"
    assert "PUBLISHER_SPARQL_MAX_OPERATORS" in refused.value.message


def test_the_limit_counts_operators_exactly() -> None:
    # `SELECT *` and `WHERE {` are one each, each `MINUS {` two: 999 links make 2,000.
    check(links(999, "MINUS { ?s <urn:x:q> ?o } "))
    check(links(1_000, "MINUS { ?s <urn:x:q> ?o } "), max_operators=2_002)
    with pytest.raises(InvalidQueryRequest):
        check(links(1_000, "MINUS { ?s <urn:x:q> ?o } "))
    check(links(10_000, "MINUS { ?s <urn:x:q> ?o } "), max_operators=0)  # 0: no limit


def test_values_data_and_iri_in_lists_are_not_operators() -> None:
    # Long flat lists are normal (a batch of IRIs, negative numbers that lex as `-` 1).
    numbers = " ".join(str(-i) for i in range(5_000))
    check("SELECT * WHERE { VALUES ?x { " + numbers + " } ?s ?p ?x }")
    check(
        "SELECT * WHERE { ?s ?p ?x } VALUES (?x ?y) { " + f"({numbers.split()[1]} 2) " * 3_000 + "}"
    )
    iris = ", ".join(f"<urn:x:{i}>" for i in range(5_000))
    check("SELECT * WHERE { ?s ?p ?x FILTER(?x IN (" + iris + ")) }")
    # Operators after a VALUES block count again.
    with pytest.raises(InvalidQueryRequest):
        check("SELECT * WHERE { VALUES ?x { 1 } " + "BIND(1 AS ?v) " * 2_001 + "}")
