"""Helpers shared by the tests and bench/: build a dist/ and run a real server in a subprocess.

bench/ scripts put tests/ on sys.path to import this module; tests never import bench/.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
W3C = FIXTURES / "w3c"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_dist(
    out: Path,
    *,
    base: str,
    data_dir: Path = ROOT / "data",
    ontology_dir: Path | None = ROOT / "ontology",
    shapes_dir: Path | None = ROOT / "shapes",
    validate: bool = True,
) -> Path:
    """Run the real build (in-process) into `out`."""
    from publisher.dataset.pipeline import build_dataset
    from publisher.settings import load_settings

    settings = load_settings(
        {
            "base_uri": base,
            "data_dir": str(data_dir),
            "ontology_dir": str(ontology_dir) if ontology_dir else "",
            "shapes_dir": str(shapes_dir) if shapes_dir else "",
            "dist_dir": str(out),
        },
        environ={},
    )
    build_dataset(settings, check=validate)
    return out


def build_data_only(
    out: Path, *, base: str, data_dir: Path, ontology_dir: Path | None = None
) -> Path:
    """Build a test dataset as it is: no shapes, no validation (fixtures, corpora, W3C data)."""
    return build_dist(
        out,
        base=base,
        data_dir=data_dir,
        ontology_dir=ontology_dir,
        shapes_dir=None,
        validate=False,
    )


def w3c_data_dir(directory: Path) -> Path:
    """A data directory holding only the W3C SPARQL protocol dataset (one TriG file)."""
    (directory / "sparql-protocol-dataset.trig").write_bytes(
        (W3C / "sparql-protocol-dataset.trig").read_bytes()
    )
    return directory


def in_process_app(dist: Path, **settings: object):
    """The in-process app on a built dist/ (the Flask test client talks to it)."""
    from publisher import create_app

    application = create_app({"dist_dir": str(dist), **settings})
    application.config["TESTING"] = True
    return application


class ServerProcess:
    """`publisher serve [options]` in a subprocess on 127.0.0.1; stopped by its process group.

    `workers=None` leaves the option out (the development server of `--reload` has none)."""

    def __init__(
        self,
        dist: Path,
        *,
        port: int | None = None,
        workers: int | None = 2,
        options: tuple[str, ...] = (),
        env: dict | None = None,
        log_dir: Path | None = None,
        ready_timeout_s: float = 30.0,
        cwd: Path | None = None,
    ) -> None:
        """`cwd`: the source tree served (`python -m publisher` imports the publisher of its
        current directory before PYTHONPATH); this repository by default."""
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "publisher",
            "serve",
            "--dist",
            str(dist),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *(("--workers", str(workers)) if workers is not None else ()),
            *options,
        ]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
        environment.update(env or {})
        log_path = (log_dir or dist.parent) / f"server-{self.port}.log"
        self.log = open(log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            cwd=cwd or ROOT,
            env=environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(ready_timeout_s)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.output()}")
            try:
                # A cheap page: "/" summarises the whole dataset on its first request.
                requests.get(self.url + "/robots.txt", timeout=5)
                return
            except requests.RequestException:
                # Refused (not listening yet) or timed out (gunicorn listens before its
                # workers have imported the app; on a busy machine that takes seconds).
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout} s: {self.output()}")

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        stop_process_group(self.process)
        if not self.log.closed:
            self.log.close()


def stop_process_group(process: subprocess.Popen, *, grace_s: float = 10.0) -> None:
    """SIGTERM a process started with start_new_session=True and its children (its group);
    SIGKILL them if they have not gone within `grace_s`."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=grace_s)
