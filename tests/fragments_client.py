"""Comunica (tests/clients/comunica/run-queries.cjs) as a Linked Data Fragments client: many
queries in one Node.js process, each with a fresh engine; results, HTTP requests and time."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from client_checks import comparable_rows
from support import ROOT

NODE_MODULES = ROOT / ".node" / "node_modules"
RUNNER = ROOT / "tests" / "clients" / "comunica" / "run-queries.cjs"


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


def canonical_rows(results: dict) -> list[str]:
    """SPARQL JSON results (as parsed JSON) in the form every client test compares."""
    # Only the standard members: pyoxigraph's reader refuses what a client adds after them.
    if "boolean" in results:
        standard = {"head": results.get("head", {}), "boolean": results["boolean"]}
    else:
        standard = {
            "head": results["head"],
            "results": {"bindings": results["results"]["bindings"]},
        }
    return comparable_rows(json.dumps(standard).encode())


def competency_questions(cq_dir: Path) -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in sorted(cq_dir.glob("*.rq"))}
