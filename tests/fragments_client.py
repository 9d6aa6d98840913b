"""Comunica (tests/clients/comunica/run-queries.cjs) as a Linked Data Fragments client: many
queries in one Node.js process, each with a fresh engine; results, HTTP requests and time."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from support import ROOT

NODE_MODULES = ROOT / ".node" / "node_modules"
RUNNER = ROOT / "tests" / "clients" / "comunica" / "run-queries.cjs"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@dataclass
class ClientRun:
    name: str
    results: dict  # SPARQL 1.1 JSON results
    requests: int
    ms: float


def run_queries(
    source: str | dict, queries: dict[str, str], *, base: str, timeout_s: float = 600
) -> list[ClientRun]:
    assert (NODE_MODULES / "@comunica" / "query-sparql").is_dir(), (
        f"{NODE_MODULES} has no Comunica: run `make test` (or `make .node/.installed`)"
    )
    payload = {
        "nodeModules": str(NODE_MODULES),
        "source": source,
        "baseIRI": base,
        "queries": [{"name": name, "query": text} for name, text in queries.items()],
    }
    completed = subprocess.run(
        ["node", str(RUNNER)],
        input=json.dumps(payload).encode(),
        capture_output=True,
        timeout=timeout_s,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr.decode("utf-8", "replace")[-3000:]
    return [ClientRun(**run) for run in json.loads(completed.stdout)]


def canonical_rows(results: dict) -> Counter | bool:
    """SPARQL JSON results as a multiset of rows, blank-node labels and xsd:string ignored
    (they differ between engines without meaning anything); ASK as its boolean."""
    if "boolean" in results:
        return bool(results["boolean"])
    rows: Counter = Counter()
    for binding in results["results"]["bindings"]:
        row = {}
        for name, value in binding.items():
            value = dict(value)
            if value["type"] == "bnode":
                value["value"] = "_"
            if value["type"] == "typed-literal":
                value["type"] = "literal"
            if value.get("datatype") == XSD_STRING:
                del value["datatype"]
            row[name] = value
        rows[json.dumps(row, sort_keys=True, ensure_ascii=False)] += 1
    return rows


def competency_questions(cq_dir: Path) -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(cq_dir.glob("*.rq"))}
