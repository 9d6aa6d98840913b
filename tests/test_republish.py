"""A running server switches to a new build when `publisher build` publishes one."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import requests
from support import ROOT, ServerProcess, build_dist, free_port


def _wait_for(condition, *, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_new_build_is_served_without_a_restart(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    dist = build_dist(tmp_path / "dist", base=base, data_dir=data)
    server = ServerProcess(dist, port=port, env={"PUBLISHER_RELOAD_CHECK_MS": "200"})
    try:
        khojaly = server.url + "/doc/place/khojaly.nt"
        first = requests.get(khojaly, timeout=10)
        assert first.status_code == 200 and '"Xocali (test)"@tr' not in first.text
        count = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
        before = requests.get(server.url + "/sparql", params=count, headers={"Accept": "text/csv"})
        n_before = int(before.text.splitlines()[1])

        # A curator adds a label and publishes; the server keeps running.
        (data / "extra-label.trig").write_text(
            "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
            '<graph/curated> { <id/place/khojaly> rdfs:label "Xocali (test)"@tr . }\n'
        )
        build_dist(dist, base=base, data_dir=data)

        assert _wait_for(lambda: '"Xocali (test)"@tr' in requests.get(khojaly, timeout=10).text)
        second = requests.get(khojaly, timeout=10)
        assert second.headers["ETag"] != first.headers["ETag"]
        after = requests.get(server.url + "/sparql", params=count, headers={"Accept": "text/csv"})
        assert int(after.text.splitlines()[1]) == n_before + 1  # the query workers moved too
    finally:
        server.stop()
