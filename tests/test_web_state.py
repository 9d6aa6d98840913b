"""web/state: the build a process serves and the switch to a newly published one.

Real builds on disk: a new build is simulated the way `publisher build` publishes one, by
replacing dist/build.json with a new file (the switcher watches that file's identity).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import pytest

from publisher.dist import BUILD_INFO
from publisher.settings import load_settings
from publisher.web.state import BadBuild, BuildSwitcher, open_build


def _copy(sample_dist: Path, tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    shutil.copytree(sample_dist, dist)
    return dist


def _switcher(dist: Path, *, reload_check_ms: int = 1) -> BuildSwitcher:
    settings = load_settings(
        {"dist_dir": str(dist), "reload_check_ms": reload_check_ms}, environ={}
    )
    return BuildSwitcher(settings)


def _publish_build_info(dist: Path, **changes: object) -> None:
    """Swap in a new build.json (a new file, as the build's atomic swap makes)."""
    info = json.loads((dist / BUILD_INFO).read_text(encoding="utf-8"))
    info.update(changes)
    staged = dist / "build.json.new"
    staged.write_text(json.dumps(info), encoding="utf-8")
    os.replace(staged, dist / BUILD_INFO)


def _after_the_check_interval() -> None:
    time.sleep(0.01)


def test_a_new_build_is_served_by_the_next_request(sample_dist: Path, tmp_path: Path) -> None:
    dist = _copy(sample_dist, tmp_path)
    switcher = _switcher(dist)
    first = switcher.get()
    try:
        first.memo("page", lambda: "rendered for the first build")
        _publish_build_info(dist, build_id="second-build")
        _after_the_check_interval()
        second = switcher.get()
        assert second is not first
        assert second.info.build_id == "second-build"
        assert second.etag == "second-build"
        # Per-build caches start empty: nothing rendered for the old build is served.
        assert "page" not in second.extras
        assert second.graph_sizes == first.graph_sizes
    finally:
        switcher.current.store.close()
        first.store.close()


def test_a_damaged_new_build_is_ignored_and_logged_once(
    sample_dist: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dist = _copy(sample_dist, tmp_path)
    switcher = _switcher(dist)
    good = switcher.get()
    try:
        (dist / "build.json.new").write_text("{}", encoding="utf-8")
        os.replace(dist / "build.json.new", dist / BUILD_INFO)
        with caplog.at_level(logging.ERROR, logger="publisher.web.state"):
            for _ in range(3):
                _after_the_check_interval()
                assert switcher.get() is good
        messages = [r.getMessage() for r in caplog.records if "not switching" in r.getMessage()]
        assert len(messages) == 1
        assert BUILD_INFO in messages[0]
        assert good.info.build_id in messages[0]
    finally:
        good.store.close()


def test_no_switch_when_checking_is_off(sample_dist: Path, tmp_path: Path) -> None:
    dist = _copy(sample_dist, tmp_path)
    switcher = _switcher(dist, reload_check_ms=0)
    first = switcher.get()
    try:
        _publish_build_info(dist, build_id="unseen")
        _after_the_check_interval()
        assert switcher.get() is first
    finally:
        first.store.close()


def test_opening_a_damaged_build_names_the_file(sample_dist: Path, tmp_path: Path) -> None:
    dist = _copy(sample_dist, tmp_path)
    (dist / BUILD_INFO).write_text('{"build_id": 1}', encoding="utf-8")
    settings = load_settings({"dist_dir": str(dist)}, environ={})
    with pytest.raises(BadBuild, match=BUILD_INFO):
        open_build(settings)
