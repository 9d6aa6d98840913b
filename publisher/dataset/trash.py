"""Directories a build no longer needs, removed without making the build wait.

A retired dist/ (its store's SST files) and an old build's dump pieces are thousands of files:
removing them took more than a second of an incremental build. They are renamed aside first
(instant, so nothing sees a half-removed directory under its old name), then removed by a
detached `rm -rf` that outlives the build; what a killed removal leaves behind is picked up by
the next build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

TRASH_PREFIX = ".trash-"


def remove_later(paths: Iterable[Path]) -> None:
    moved: list[Path] = []
    for path in paths:
        if not path.exists():
            continue
        aside = path.with_name(f"{TRASH_PREFIX}{path.name}-{time.time_ns()}")
        try:
            os.rename(path, aside)
        except OSError:
            shutil.rmtree(path, ignore_errors=True)
            continue
        moved.append(aside)
    for leftover in {p.parent for p in moved}:
        moved += [p for p in leftover.glob(f"{TRASH_PREFIX}*") if p not in moved]
    if not moved:
        return
    remover = shutil.which("rm")
    if remover is None:
        for path in moved:
            shutil.rmtree(path, ignore_errors=True)
        return
    subprocess.Popen(
        [remover, "-rf", "--", *map(str, moved)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
