"""publisher/sparql/lexer.py: the one-expression path gives exactly the tokens of the rules.

The safety checks read tokens (SERVICE, updates, FROM, nesting), so a token classified
differently would be a check that looks at the wrong thing. `tokens` tries `_FAST` first; the
rules alone (`_HEAD`, then prefixed names, then the rest) are the reference it is compared with.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from support import W3C

from publisher.sparql import lexer

ROOT = Path(__file__).resolve().parent.parent


def by_rules(text: str, *, significant: bool = True) -> list[lexer.Token]:
    return list(lexer._scan(text, significant=significant, first=lexer._HEAD))


def fast(text: str, *, significant: bool = True) -> list[lexer.Token]:
    return list(lexer.tokens(text, significant=significant))


def query_texts() -> list[str]:
    """The competency questions (ontology/cq), the W3C tests' queries (files, and literals in
    the protocol tests' manifest)."""
    files = sorted((ROOT / "ontology" / "cq").glob("*.rq")) + sorted(W3C.rglob("*.rq"))
    texts = [path.read_text(encoding="utf-8") for path in files]
    manifest = (W3C / "protocol" / "manifest.ttl").read_text(encoding="utf-8")
    texts += re.findall(r'"""(.*?)"""', manifest, re.DOTALL)
    return [t for t in texts if t.strip()]


def test_there_are_queries_to_compare() -> None:
    assert len(query_texts()) >= 30


@pytest.mark.parametrize("significant", [True, False])
def test_real_queries_give_the_same_tokens(significant: bool) -> None:
    for text in query_texts():
        assert fast(text, significant=significant) == by_rules(text, significant=significant)


# Where the one expression and the rules could part: names running into ':' or '.', numbers
# running into names, signs and exponents, keywords inside strings, IRIs and comments,
# Azerbaijani and Russian names, the middle dot, escapes.
TRICKY = [
    "SELECT * WHERE { ?s ?p ?o }",
    "SELECT ?e ?label ?v WHERE { ?e <http://b/def/value> ?v ; <http://b/label> ?label "
    'FILTER(?v >= 120 && ?v < 220 && langMatches(lang(?label), "en")) }',
    "CONSTRUCT { <http://b/e/1> ?p ?o . ?o <http://b/l> ?l } WHERE { <http://b/e/1> ?p ?o "
    "OPTIONAL { ?o <http://b/l> ?l } }",
    "select distinct ?x where{?x a kg:Place.?x rdfs:label 'Xocalı'@az}",
    "PREFIX : <http://e/> SELECT ?x { :a :b :c . a:b.c:d e:f. }",
    "ASK { ?s ?p 1.5e-3, 12., .5, 1e+5, 1.E5, 3.x, 4:y, 5e, 6e+, 7.e }",
    "SELECT ?x WHERE { ?x ?p 'SERVICE' # SERVICE <http://evil/>\n }",
    'INSERT DATA { <s> <p> """a\n"b" SERVICE""" }',
    "SELECT ?x FROM <g> FROM NAMED<h> WHERE{GRAPH?g{?x?p?o}}",
    "SELECT (COUNT(*)AS?n)(1+2*3/4-5 AS ?m) WHERE {}",
    "SELECT ?x { ?x a/rdfs:subClassOf*/^skos:broader|!rdf:type ?y }",
    "SELECT ?x { FILTER(?a&&?b||!?c && ?d!=?e && ?f<=?g && ?h>=?i && ?j^^xsd:int) }",
    "SELECT ?Ходжалы ?xocalı { ?x rdfs:label ?Ходжалы . ?x kg:adı·x ?xocalı }",
    "_:b1 _:b.2 _:3 a_b:c-d e.f:g h-i j_ k·l m\u00b7 ü:ö ü. é:é.é",
    "SELECT ?x { ?x kg:a\\.b kg:%41%42 kg:a\\:b:c }",
    "BASE <http://e/> PREFIX p: <x#> SELECT * { <a> p:b <#c> }",
    "SELECT * { ?s ?p ?o } LIMIT 10 OFFSET 5 ORDER BY DESC(?s)",
    "[]<>{}()[;,*=/+]-+!^&|?$@#'\"\\.:",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_texts_give_the_same_tokens(text: str) -> None:
    assert fast(text) == by_rules(text)
    assert fast(text, significant=False) == by_rules(text, significant=False)


ALPHABET = [
    *"aAzZ_09:.-+eE'\"<>#?$@{}()[];,*=/!|&^\\ \n\tı·éХод",
    "SELECT ",
    "SERVICE ",
    "FROM ",
    "kg:",
    "1.5",
    "<http://e/x>",
    "'s'",
    "# c\n",
    "xsd:int",
]


def test_fuzzed_texts_give_the_same_tokens() -> None:
    rng = random.Random(20261201)
    for _ in range(20_000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 40)))
        assert fast(text, significant=False) == by_rules(text, significant=False), text


def test_long_runs_stay_linear_on_the_fast_path() -> None:
    """The fast path keeps the rules' guard against re-scanning a name run (quadratic)."""
    import time

    for text in ("é" * 20_000, "a." * 10_000, "1" * 20_000 + ":", "a" * 20_000 + "é"):
        started = time.perf_counter()
        assert fast(text, significant=False) == by_rules(text, significant=False)
        assert time.perf_counter() - started < 5  # quadratic was about 10 s for the first
