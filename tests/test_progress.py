"""publisher.progress: bars on a terminal, silence anywhere else, and `publisher build` using it."""

from __future__ import annotations

import io
import subprocess
import sys

from support import ROOT

from publisher.progress import Progress, build_progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    with Progress(stream=stream) as progress, progress.step("dumps", total=3) as advance:
        for _ in range(3):
            advance(1)
    assert not progress.enabled
    assert stream.getvalue() == ""


def test_draws_a_bar_on_a_terminal_and_counts_what_it_is_told() -> None:
    stream = FakeTerminal()
    with Progress(stream=stream) as progress:
        assert progress.enabled
        with progress.step("validating", total=4) as advance:
            advance(1)
            advance(3)  # a callback handed to other code gets "n more done"
        with progress.step("Xocalı / Ходжалы", total=None) as advance:
            advance(2)
    drawn = stream.getvalue()
    assert "validating" in drawn and "4/4" in drawn
    assert "Xocalı / Ходжалы" in drawn


def test_build_progress_is_silent_under_pytest() -> None:
    # stderr is captured (not a terminal) here, as in CI logs.
    assert build_progress().enabled is False


def test_publisher_build_writes_no_progress_to_a_pipe(tmp_path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.ttl").write_text(
        '<id/place/xocali> <http://www.w3.org/2000/01/rdf-schema#label> "Xocalı"@az .\n',
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "publisher",
            "build",
            "--no-validate",
            "--data",
            str(data),
            "--ontology",
            "",
            "--shapes",
            "",
            "--out",
            str(tmp_path / "dist"),
            "--base",
            "http://example.org/",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("Full build (no manifest of a previous build).\nBuilt 1 quads")
