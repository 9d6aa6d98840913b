"""`publisher serve --reload`: the development mode answers, and restarts on a new build."""

from __future__ import annotations

import os
import time
from pathlib import Path

import requests
from support import ServerProcess


def wait_for(url: str, *, timeout: float = 30.0) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return requests.get(url, timeout=5)
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def test_reload_mode_serves_and_picks_up_a_new_build(sample_dist: Path, tmp_path: Path) -> None:
    server = ServerProcess(sample_dist, workers=None, options=("--reload",), log_dir=tmp_path)
    try:
        first = wait_for(server.url + "/doc/place/khojaly.ttl")
        assert first.status_code == 200
        assert first.headers["Content-Type"] == "text/turtle; charset=utf-8"
        # A build rewrites build.json; the reloader restarts the process onto the new dist/.
        build = sample_dist / "build.json"
        stat = build.stat()
        os.utime(build, (stat.st_atime, stat.st_mtime + 5))
        deadline = time.monotonic() + 20
        restarted = False
        while time.monotonic() < deadline and not restarted:
            time.sleep(0.5)
            restarted = "Restarting" in server.output()
        assert restarted, server.output()[-2000:]
        assert wait_for(server.url + "/robots.txt").status_code == 200
    finally:
        server.stop()
