"""The layers only import downwards, and serving never loads the dataset builder.

Static: every module of the package is parsed and each import (module level or inside a
function) is checked against the rules below. Dynamic: an app in a fresh interpreter serves a
resource and a query, and afterwards neither the builder nor rdflib/pySHACL has been imported.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "publisher"

WEB = ("flask", "werkzeug", "jinja2", "publisher.web")
BUILDER = ("publisher.dataset", "rdflib", "pyshacl")
# Modules serving imports must not reach the builder (rdflib and pySHACL are its libraries).
SERVING = ("publisher.web", "publisher.store", "publisher.sparql", "publisher.dist")
SERVING_MODULES = (
    "formats",
    "negotiation",
    "settings",
    "namespaces",
    "jsonld",
    "xmlsafe",
    "textsearch",
)

RULES: dict[str, tuple[str, ...]] = {
    "publisher.sparql": WEB + BUILDER + ("publisher.store",),
    "publisher.store": WEB + BUILDER,
    "publisher.dist": WEB + BUILDER + ("publisher.store", "publisher.sparql"),
    "publisher.dataset": ("flask", "werkzeug", "publisher.web"),
    "publisher.web": BUILDER,
    **{f"publisher.{name}": WEB + BUILDER for name in SERVING_MODULES},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import statement, wherever it sits."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from publisher import web` imports publisher.web
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
    return found


def forbidden_for(module: str) -> tuple[str, ...]:
    for layer, forbidden in RULES.items():
        if module == layer or module.startswith(layer + "."):
            return forbidden
    return ()


def violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        for line, imported in imports_of(path):
            for banned in forbidden_for(module):
                if imported == banned or imported.startswith(banned + "."):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {imported}")
    return found


def test_layers_import_only_downwards() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("module", "imported", "allowed"),
    [
        ("publisher.sparql.protocol", "flask", False),
        ("publisher.sparql.protocol", "publisher.web.errors", False),
        ("publisher.store.embedded", "publisher.web.state", False),
        ("publisher.web.state", "publisher.dataset.publish", False),
        ("publisher.web.state", "publisher.dist", True),
        ("publisher.dataset.publish", "publisher.dist", True),
        ("publisher.formats", "rdflib", False),
    ],
)
def test_the_rules_catch_what_they_are_for(module: str, imported: str, allowed: bool) -> None:
    banned = any(imported == b or imported.startswith(b + ".") for b in forbidden_for(module))
    assert banned is not allowed


SERVE_AND_LIST_MODULES = """
import json, sys
from publisher import create_app
app = create_app({"dist_dir": sys.argv[1], "reload_check_ms": 0})
client = app.test_client()
statuses = [
    client.get("/").status_code,
    client.get("/doc/event/khojaly-massacre", headers={"Accept": "text/turtle"}).status_code,
    client.get("/doc/event/khojaly-massacre.html").status_code,
    client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}).status_code,
    client.get("/dataset.jsonld").status_code,
    client.get("/search", query_string={"q": "Xocalı"}).status_code,
    client.get("/reconcile").status_code,
]
print(json.dumps({"statuses": statuses, "modules": sorted(sys.modules)}))
"""


def test_serving_never_imports_the_builder(seed_dist: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SERVE_AND_LIST_MODULES, str(seed_dist)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["statuses"] == [200, 200, 200, 200, 200, 200, 200]
    loaded = [m for m in report["modules"] if m.startswith(BUILDER)]
    assert loaded == []
