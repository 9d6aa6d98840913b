"""Comunica evaluates every competency question from /fragments alone (as a Quad Pattern
Fragments source) and gets the answers /sparql gives, over real HTTP to a real server."""

from __future__ import annotations

import pytest
import requests
from fragments_client import canonical_rows, competency_questions, run_queries
from support import ROOT, ServerProcess

QUESTIONS = competency_questions(ROOT / "ontology" / "cq")


def sparql(server: ServerProcess, query: str) -> dict:
    response = requests.post(
        f"{server.url}/sparql",
        data={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def fragment_runs(live_server: ServerProcess, seed_base: str) -> dict:
    queries = {
        **QUESTIONS,
        "non-ascii": 'SELECT ?s WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> "Ходжалы"@ru }',
    }
    runs = run_queries(f"{live_server.url}/fragments", queries, base=seed_base)
    return {run.name: run for run in runs}


@pytest.mark.parametrize("name", [*QUESTIONS, "non-ascii"])
def test_comunica_on_fragments_answers_like_sparql(
    fragment_runs: dict, live_server: ServerProcess, name: str
) -> None:
    run = fragment_runs[name]
    query = QUESTIONS.get(name) or (
        'SELECT ?s WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> "Ходжалы"@ru }'
    )
    expected = canonical_rows(sparql(live_server, query))
    assert canonical_rows(run.results) == expected
    if not isinstance(expected, bool):
        assert expected, f"{name}: /sparql gives no rows, so the comparison proves nothing"
    assert run.requests >= 1
