"""Start and stop `publisher serve` (or any server) for the bench scripts, by process group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_server(
    dist: Path,
    port: int,
    *,
    workers: int = 2,
    env_extra: dict[str, str] | None = None,
    probe: str = "/robots.txt",
    timeout_s: float = 60,
) -> subprocess.Popen:
    """`publisher serve` on 127.0.0.1:port; returns once `probe` answers (exits if it never does)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update(env_extra or {})
    command = [sys.executable, "-m", "publisher", "serve", "--dist", str(dist)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2)
            return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    sys.exit("the server did not start")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process group, SIGKILL it if it does not go within 15 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
