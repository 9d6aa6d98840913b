"""Competency questions: every ontology/cq/NN-name.rq answers what NN-name.expected.json says.

The dataset is the store written by the real build (`seed_dist`); queries run with the union of the named graphs as default graph and with
BASE as base IRI (the .rq files use relative IRIs). IRIs under BASE in the results are compared
RELATIVE ("id/place/khojaly"), so expected answers do not depend on the base.

To print the current answer of a question (e.g. after changing the data, to review and update
its .expected.json by hand):  .venv/bin/python tests/test_competency_questions.py 03
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parent.parent
CQ_DIR = ROOT / "ontology" / "cq"
BASE = "http://127.0.0.1:8080/"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def load_seed_store(base: str = BASE) -> ox.Store:
    """The seed dataset loaded by the build's own loader (for printing answers by hand)."""
    from publisher.dataset.load import load_dataset
    from publisher.store.union import store_union_default_graph

    dataset = load_dataset(base=base, ontology_dir=ROOT / "ontology", data_dir=ROOT / "data")
    return store_union_default_graph(dataset.store)


def term_to_json(term, base: str = BASE) -> dict:
    """A result term in SPARQL 1.1 JSON results form, with IRIs under `base` made relative."""
    if isinstance(term, ox.NamedNode):
        value = term.value
        return {"type": "uri", "value": value[len(base) :] if value.startswith(base) else value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": "_"}  # blank node labels are not comparable
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    raise TypeError(f"unexpected term {term!r}")


def run_question(store: ox.Store, path: Path, base: str = BASE) -> dict:
    query = path.read_text(encoding="utf-8")
    # The store's default graph is the union of the named graphs, as a set (as on /sparql).
    result = store.query(query, base_iri=base)
    if isinstance(result, ox.QueryBoolean):
        return {"boolean": bool(result)}
    variables = [v.value for v in result.variables]
    rows = []
    for solution in result:
        row = {}
        for name in variables:
            value = solution[name]
            if value is not None:
                row[name] = term_to_json(value, base)
        rows.append(row)
    return {"vars": variables, "rows": rows}


def canonical(row: dict) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False)


def questions() -> list[Path]:
    return sorted(CQ_DIR.glob("*.rq"))


@pytest.fixture(scope="module")
def store(seed_dist: Path) -> ox.Store:
    """The store the real build wrote (the one `publisher serve` opens)."""
    return ox.Store.read_only(str(seed_dist / "store"))


def test_there_are_enough_questions():
    assert len(questions()) >= 12


@pytest.mark.parametrize("path", questions(), ids=lambda p: p.stem)
def test_competency_question(store: ox.Store, seed_base: str, path: Path):
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# Question: "), f"{path.name} must start with '# Question: …'"
    expected_path = path.with_suffix(".expected.json")
    assert expected_path.exists(), f"missing {expected_path.name}"
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    actual = run_question(store, path, seed_base)

    if "boolean" in expected:
        assert actual == {"boolean": expected["boolean"]}
        return
    assert actual.get("vars") == expected["vars"]
    if expected.get("ordered"):
        assert [canonical(r) for r in actual["rows"]] == [canonical(r) for r in expected["rows"]]
    else:
        missing = Counter(map(canonical, expected["rows"])) - Counter(
            map(canonical, actual["rows"])
        )
        extra = Counter(map(canonical, actual["rows"])) - Counter(map(canonical, expected["rows"]))
        assert not missing and not extra, (
            f"{path.name}\nmissing rows: {list(missing.elements())}\nunexpected rows: {list(extra.elements())}"
        )


if __name__ == "__main__":  # print current answers for review
    seed = load_seed_store(BASE)
    for q in questions():
        if len(sys.argv) > 1 and not any(q.name.startswith(a) for a in sys.argv[1:]):
            continue
        print(f"== {q.name}")
        print(json.dumps({**run_question(seed, q), "ordered": False}, indent=2, ensure_ascii=False))
