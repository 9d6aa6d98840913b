"""Example queries for the query page: the competency questions of the ontology, and two more.

Each ``ontology/cq/*.rq`` starts with ``# Question: ...``. The files use IRIs relative to the
dataset base (``PREFIX kg: <def/>``); the page shows them resolved against the base, so a
query copied from the page runs unchanged in any other SPARQL client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from publisher.sparql.lexer import absolutize

_QUESTION = re.compile(r"^#\s*Question:\s*(.+)$", re.MULTILINE)

GENERIC = (
    (
        "graphs",
        "Which named graphs does the dataset have, and how many statements are in each?",
        "SELECT ?graph (COUNT(*) AS ?statements)\n"
        "WHERE { GRAPH ?graph { ?s ?p ?o } }\n"
        "GROUP BY ?graph\nORDER BY ?graph\n",
    ),
    (
        "classes",
        "Which classes have the most instances?",
        "SELECT ?class (COUNT(DISTINCT ?thing) AS ?things)\n"
        "WHERE { ?thing a ?class }\n"
        "GROUP BY ?class\nORDER BY DESC(?things)\nLIMIT 50\n",
    ),
)


@dataclass(frozen=True)
class Example:
    slug: str
    question: str
    query: str  # with every IRI absolute


def load_examples(directory: Path, *, base: str) -> list[Example]:
    examples = []
    if directory.is_dir():
        for path in sorted(directory.glob("*.rq")):
            text = path.read_text(encoding="utf-8")
            found = _QUESTION.search(text)
            question = found.group(1).strip() if found else path.stem.replace("-", " ")
            examples.append(Example(path.stem, question, absolutize(text, base=base)))
    examples += [Example(slug, question, query) for slug, question, query in GENERIC]
    return examples
