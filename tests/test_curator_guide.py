"""The README's curator guide, followed step by step as written.

The steps are read from the README's "Curator guide" section: each fenced block after a
`<!-- curator-guide: ... -->` marker is a file to save, a command to run (the real CLI in a
subprocess, in a copy of the checkout), a block to insert in a file, or the output the last
command must print. Guide and test cannot drift apart: edit the guide and this test follows it.
"""

from __future__ import annotations

import gzip
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from publisher.dataset.skeleton import END_OF_STATEMENTS

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!-- curator-guide: (\w+)(?: (\S+))? -->\n```[a-z]*\n(.*?)\n```", re.S)


@dataclass(frozen=True)
class Step:
    action: str  # file, run, insert, output
    target: str | None
    body: str


def guide_steps() -> list[Step]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Curator guide")
    end = readme.index("\n## ", start + 1)
    return [Step(*m.groups()) for m in MARKER.finditer(readme[start:end])]


def run_publisher(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    args = shlex.split(command)
    assert args[0] == "publisher", command
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_guide_has_the_steps_it_promises():
    steps = guide_steps()
    commands = [shlex.split(s.body)[1] for s in steps if s.action == "run"]
    assert commands == ["new-source", "validate", "build", "query"]
    assert [s.action for s in steps].count("insert") == 1
    assert steps[-1].action == "output"


def test_follow_the_curator_guide(tmp_path: Path):
    for directory in ("data", "ontology", "shapes"):
        shutil.copytree(ROOT / directory, tmp_path / directory)
    last: subprocess.CompletedProcess[str] | None = None
    for step in guide_steps():
        if step.action == "file":
            (tmp_path / step.target).write_text(step.body + "\n", encoding="utf-8")
        elif step.action == "run":
            last = run_publisher(step.body, tmp_path)
            assert last.returncode == 0, f"{step.body}\n{last.stdout}\n{last.stderr}"
        elif step.action == "insert":
            path = tmp_path / step.target
            text = path.read_text(encoding="utf-8")
            assert text.count(END_OF_STATEMENTS) == 1, "the skeleton has no end-of-statements line"
            marker = f"    {END_OF_STATEMENTS}"
            path.write_text(text.replace(marker, f"{step.body}\n\n{marker}"), encoding="utf-8")
        elif step.action == "output":
            assert last is not None
            printed = [line.rstrip() for line in last.stdout.strip("\n").splitlines()]
            assert printed == step.body.splitlines(), last.stdout
        else:
            raise AssertionError(f"unknown guide step {step.action}")
    # The published N-Quads dump has both figures, each in its own source's graph.
    with gzip.open(tmp_path / "dist" / "dataset.nq.gz") as stream:
        quads = list(ox.parse(stream, format=ox.RdfFormat.N_QUADS))
    figures = {
        (q.graph_name.value.rsplit("/", 1)[-1], q.object.value)
        for q in quads
        if isinstance(q.graph_name, ox.NamedNode)
        and q.predicate.value == "https://schema.org/value"
        and q.subject.value.endswith("-killed")
    }
    assert {("example-second-source", "600"), ("press-release-2023-02-26", "613")} <= figures
