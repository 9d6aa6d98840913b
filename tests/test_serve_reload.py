"""`publisher serve --reload`: the development mode answers, and restarts on a new build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
from support import ROOT, free_port


def wait_for(url: str, *, timeout: float = 30.0) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return requests.get(url, timeout=5)
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def test_reload_mode_serves_and_picks_up_a_new_build(sample_dist: Path, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    command = [sys.executable, "-m", "publisher", "serve", "--reload", "--dist", str(sample_dist)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        first = wait_for(url + "/doc/place/khojaly.ttl")
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
            restarted = b"Restarting" in (tmp_path / "serve.log").read_bytes()
        assert restarted, (tmp_path / "serve.log").read_text(errors="replace")[-2000:]
        assert wait_for(url + "/robots.txt").status_code == 200
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        log.close()
