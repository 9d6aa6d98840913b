"""A damaged dist/: one line and exit 2 at start; while serving, the good build keeps serving
and a bad new one is ignored and logged; /dumps/ serves no symbolic link (issue 7, item 23)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from support import ROOT, ServerProcess, free_port, in_process_app


def damage_build_info(dist: Path) -> str:
    # A new file (new inode), as a botched publish would leave it.
    (dist / "build.json.tmp").write_text("{}")
    os.replace(dist / "build.json.tmp", dist / "build.json")
    return "build.json"


def damage_store(dist: Path) -> str:
    for path in (dist / "store").iterdir():
        if path.is_file():
            path.write_bytes(b"\x00garbage\xff" * 7)
    return "store"


def damage_void(dist: Path) -> str:
    (dist / "void.ttl").write_text("<<< not Turtle", encoding="utf-8")
    return "void.ttl"


def damage_sums(dist: Path) -> str:
    (dist / "SHA256SUMS").unlink()
    return "SHA256SUMS"


def copy_dist(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


@pytest.mark.parametrize(
    "damage", [damage_build_info, damage_store, damage_void, damage_sums], ids=lambda f: f.__name__
)
def test_serve_refuses_a_damaged_dist_in_one_line(
    sample_dist: Path, tmp_path: Path, damage
) -> None:
    dist = copy_dist(sample_dist, tmp_path / "dist")
    name = damage(dist)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    command = [sys.executable, "-m", "publisher", "serve", "--dist", str(dist)]
    command += ["--host", "127.0.0.1", "--port", str(free_port()), "--workers", "2"]
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(dist / name) in lines[0]


ROUTES = (
    "/",
    "/doc/place/khojaly.ttl",
    "/doc/place/khojaly",
    "/dataset",
    "/dumps/",
    "/dumps/dataset.nq.gz",
    "/sparql?query=ASK%7B%7D",
    "/robots.txt",
)


def test_damage_while_serving_keeps_the_good_build(sample_dist: Path, tmp_path: Path) -> None:
    dist = copy_dist(sample_dist, tmp_path / "dist")
    server = ServerProcess(dist, workers=2, env={"PUBLISHER_RELOAD_CHECK_MS": "100"})
    try:
        before = {path: requests.get(server.url + path, timeout=10) for path in ROUTES}
        assert all(r.status_code == 200 for r in before.values()), before
        for damage in (damage_sums, damage_void, damage_build_info):
            damage(dist)
        time.sleep(1)  # several reload checks in every worker
        for _ in range(3):
            for path in ROUTES:
                response = requests.get(server.url + path, timeout=10)
                assert response.status_code == 200, (path, response.status_code)
                assert response.headers.get("ETag") == before[path].headers.get("ETag"), path
        assert "not switching to the new build" in server.output()
        assert str(dist / "build.json") in server.output()
    finally:
        server.stop()


def test_dumps_serve_no_symbolic_link(sample_dist: Path, tmp_path: Path) -> None:
    dist = copy_dist(sample_dist, tmp_path / "dist")
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the public")
    (dist / "secret.txt").symlink_to(secret)
    (dist / "dataset.ttl.link.gz").symlink_to(dist / "dataset.ttl.gz")
    client = in_process_app(dist).test_client()
    listing = client.get("/dumps/").get_data(as_text=True)
    assert "secret.txt" not in listing and "dataset.ttl.link.gz" not in listing
    for name in ("secret.txt", "dataset.ttl.link.gz"):
        response = client.get("/dumps/" + name)
        assert response.status_code == 404, name
        assert b"not for the public" not in response.data
    # A listed file replaced by a link after the build was opened is not followed either.
    assert client.get("/dumps/SHA256SUMS").status_code == 200
    (dist / "SHA256SUMS").unlink()
    (dist / "SHA256SUMS").symlink_to(secret)
    response = client.get("/dumps/SHA256SUMS")
    assert response.status_code == 404 and b"not for the public" not in response.data
    assert json.loads((dist / "build.json").read_text())["build_id"]
