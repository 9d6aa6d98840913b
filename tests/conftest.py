"""Fixtures: the seed dataset built once per session, an in-process app, one real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import Chromium, missing
from support import (
    FIXTURES,
    ServerProcess,
    build_data_only,
    build_dist,
    free_port,
    in_process_app,
    w3c_data_dir,
)


@pytest.fixture(scope="session")
def seed_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def seed_base(seed_port: int) -> str:
    # Built with the address the live server will have, so every IRI dereferences in tests.
    return f"http://127.0.0.1:{seed_port}/"


@pytest.fixture(scope="session")
def seed_dist(tmp_path_factory: pytest.TempPathFactory, seed_base: str) -> Path:
    return build_dist(tmp_path_factory.mktemp("seed") / "dist", base=seed_base)


@pytest.fixture(scope="session")
def conformance_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The W3C SPARQL protocol/result-format data as its own dataset (no shapes)."""
    data = w3c_data_dir(tmp_path_factory.mktemp("w3c-data"))
    return build_data_only(
        tmp_path_factory.mktemp("w3c") / "dist",
        base="http://www.example/",
        data_dir=data,
    )


@pytest.fixture(scope="session")
def app(seed_dist: Path):
    return in_process_app(seed_dist)


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(seed_dist: Path, seed_port: int) -> Iterator[ServerProcess]:
    server = ServerProcess(seed_dist, port=seed_port)
    yield server
    server.stop()


# -- linked-data sample: a small dataset with the IRI edge cases (non-ASCII, %20) ------------
@pytest.fixture(scope="session")
def sample_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def sample_dist(tmp_path_factory: pytest.TempPathFactory, sample_port: int) -> Path:
    sample = FIXTURES / "linked-data"
    return build_dist(
        tmp_path_factory.mktemp("sample") / "dist",
        base=f"http://127.0.0.1:{sample_port}/",
        data_dir=sample / "data",
        ontology_dir=sample / "ontology",
        shapes_dir=sample / "shapes",
    )


@pytest.fixture(scope="session")
def sample_app(sample_dist: Path):
    return in_process_app(sample_dist)


@pytest.fixture()
def sample_client(sample_app):
    return sample_app.test_client()


@pytest.fixture(scope="session")
def sample_server(sample_dist: Path, sample_port: int) -> Iterator[ServerProcess]:
    server = ServerProcess(sample_dist, port=sample_port)
    yield server
    server.stop()


# -- two sources: the seed plus a synthetic second source (tests/pages_support.py) ------------
@pytest.fixture(scope="session")
def two_sources_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pages_support import two_sources_data

    data = two_sources_data(tmp_path_factory.mktemp("two-sources-data"))
    return build_dist(
        tmp_path_factory.mktemp("two-sources") / "dist",
        base="http://127.0.0.1:8080/",
        data_dir=data,
    )


@pytest.fixture(scope="session")
def two_sources_app(two_sources_dist: Path):
    return in_process_app(two_sources_dist)


@pytest.fixture()
def two_sources_client(two_sources_app):
    return two_sources_app.test_client()


# -- a real browser (tests/browser.py): headless Chromium driven by Selenium -------------------
@pytest.fixture(scope="session")
def browser():
    """One Chromium (JavaScript on) for the session's browser tests; skipped, saying why, where
    chromium, chromedriver or selenium is missing."""
    reason = missing()
    if reason:
        pytest.skip(f"no browser: {reason}")
    chromium = Chromium()
    yield chromium.driver
    chromium.quit()


@pytest.fixture(scope="session")
def browser_without_js():
    """Chromium with JavaScript switched off: what the pages are without their scripts."""
    reason = missing()
    if reason:
        pytest.skip(f"no browser: {reason}")
    chromium = Chromium(javascript=False)
    yield chromium.driver
    chromium.quit()
