"""publisher/prerender.py: /doc/ variants rendered by the build (setting `doc_prerender`).

One real build of the sample data (Xocalı, Ходжалы, IRI edge cases) with every variant
pre-rendered; two real servers on the same build, one with dist/prerendered/ and one on a copy
without it, must give the same answers, byte for byte, headers included; the one with the
pre-rendered files must not render (its doc cache stays empty). Hostile paths get the same
answers from both, so nothing is read from the pre-rendered directory but its entries.
"""

from __future__ import annotations

import gzip
import http.client
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from html_checks import check_html
from rdf_checks import RDFLIB_FORMATS, parse
from support import FIXTURES, ServerProcess, free_port

from publisher import formats
from publisher.dataset.pipeline import build_dataset
from publisher.errors import BuildError
from publisher.prerender import doc_url, prerender, prerender_hook
from publisher.settings import load_settings
from publisher.web.disk_cache import render_digest
from publisher.web.resources import PRERENDERED

SAMPLE = FIXTURES / "linked-data"
# Headers made per request or per process: the rest must be the same.
PER_REQUEST = {"date", "server-timing"}


def build(out: Path, *, base: str, data: Path, mode: str = "build", limit: int = 5000) -> Path:
    settings = load_settings(
        {
            "base_uri": base,
            "data_dir": str(data),
            "ontology_dir": str(SAMPLE / "ontology"),
            "shapes_dir": str(SAMPLE / "shapes"),
            "dist_dir": str(out),
            "cache_dir": str(out.parent / "build-cache"),
            "doc_prerender": mode,
            "doc_prerender_max_resources": limit,
        },
        environ={},
    )
    build_dataset(settings, before_swap=prerender_hook(settings))
    return out


@pytest.fixture(scope="module")
def base_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, base_port: int) -> tuple[Path, Path, str]:
    """(the build with its pre-rendered variants, a copy without them, the base)."""
    work = tmp_path_factory.mktemp("prerender")
    base = f"http://127.0.0.1:{base_port}/"
    data = work / "data"
    shutil.copytree(SAMPLE / "data", data)
    pre = build(work / "dist", base=base, data=data)
    plain = work / "plain" / "dist"
    shutil.copytree(pre, plain)
    shutil.rmtree(plain / "prerendered")
    return pre, plain, base


@pytest.fixture(scope="module")
def servers(
    built: tuple[Path, Path, str], tmp_path_factory: pytest.TempPathFactory, base_port: int
) -> Iterator[tuple[ServerProcess, ServerProcess, Path]]:
    """(with the pre-rendered files, without them, the first one's cache directory)."""
    pre, plain, _ = built
    caches = tmp_path_factory.mktemp("caches")
    env = {"PUBLISHER_RELOAD_CHECK_MS": "100"}
    with_files = ServerProcess(
        pre, port=base_port, workers=1, env={**env, "PUBLISHER_CACHE_DIR": str(caches / "pre")}
    )
    without = ServerProcess(
        plain, workers=1, env={**env, "PUBLISHER_CACHE_DIR": str(caches / "plain")}
    )
    try:
        yield with_files, without, caches / "pre"
    finally:
        with_files.stop()
        without.stop()


def documents(dist: Path, base: str) -> list[str]:
    """The /doc/ paths of every thing in the build, read from its N-Quads dump."""
    things = set()
    for line in gzip.decompress((dist / "dataset.nq.gz").read_bytes()).decode().splitlines():
        for term in line.split(" "):
            if term.startswith(f"<{base}id/") and len(term) > len(base) + 5:
                things.add("/doc/" + term[len(base) + 4 : -1])
    return sorted(things)


def ask(server: ServerProcess, path: str, *, method: str = "GET", **headers: str) -> tuple:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        kept = sorted((k, v) for k, v in response.getheaders() if k.lower() not in PER_REQUEST)
        return response.status, kept, body
    finally:
        connection.close()


def doc_cache_files(cache: Path) -> list[Path]:
    return [p for p in cache.glob("builds/*/*/doc/*") if not p.name.startswith(".")]


def test_the_build_prerenders_every_variant_of_every_thing(built: tuple[Path, Path, str]) -> None:
    pre, _, base = built
    settings = load_settings({"base_uri": base}, environ={})
    entries = list((pre / PRERENDERED / render_digest(settings)).iterdir())
    # A body per thing and format at least (and gzip copies of the larger ones).
    assert len(entries) >= len(documents(pre, base)) * len(formats.RESOURCE_FORMATS)


def test_prerendered_answers_are_the_apps_byte_for_byte_in_every_variant(
    built: tuple[Path, Path, str], servers: tuple[ServerProcess, ServerProcess, Path]
) -> None:
    pre, _, base = built
    with_files, without, cache = servers
    things = documents(pre, base)
    assert any("Xocal" in t or "%" in t for t in things) or len(things) > 5
    seen_text = ""
    for thing in things:
        for fmt in formats.RESOURCE_FORMATS:
            path = doc_url(thing, fmt)
            for headers in ({}, {"Accept-Encoding": "gzip"}):
                got = ask(with_files, path, **headers)
                assert got == ask(without, path, **headers), (path, headers)
            status, _, body = got[0], got[1], ask(with_files, path)[2]
            assert status == 200, path
            if fmt is formats.HTML:
                check_html(body.decode("utf-8"))
            else:
                parse(body, fmt.name, base=base)
                assert fmt.name in RDFLIB_FORMATS
            seen_text += body.decode("utf-8")
    assert "Xocalı" in seen_text and "Ходжалы" in seen_text
    # None of it was rendered by the server: its doc cache stayed empty.
    assert doc_cache_files(cache) == []


def test_negotiation_head_and_304_are_the_same(
    built: tuple[Path, Path, str], servers: tuple[ServerProcess, ServerProcess, Path]
) -> None:
    pre, _, base = built
    with_files, without, _ = servers
    for thing in documents(pre, base)[-5:]:  # place/..., xocalı among them
        bare = quote(thing, safe="/")  # extension-less: negotiated
        for accept in ("text/turtle", "application/ld+json", "text/html", "image/png", "*/*"):
            assert ask(with_files, bare, Accept=accept) == ask(without, bare, Accept=accept)
        path = doc_url(thing, formats.TURTLE)
        assert ask(with_files, path, method="HEAD") == ask(without, path, method="HEAD")
        etag = dict(ask(with_files, path)[1])["etag"]
        answer = ask(with_files, path, **{"If-None-Match": etag})
        assert answer[0] == 304 and answer[2] == b""
        assert answer == ask(without, path, **{"If-None-Match": etag})


@pytest.mark.parametrize(
    "path",
    [
        "/doc/../build.json",
        "/doc/%2e%2e/%2e%2e/SHA256SUMS",
        "/doc/..%2fprerendered",
        "/doc/%2e%2e%2fSHA256SUMS.ttl",
        "/doc/prerendered/doc",
        "/doc/a%00b.ttl",
        "/doc/" + "x" * 4000 + ".ttl",
        "/doc/Xocal%C4%B1%2f..%2f..%2fbuild.json",
        "/doc/%D0%A5%D0%BE%D0%B4%D0%B6%D0%B0%D0%BB%D1%8B.ttl",
        "/dumps/prerendered/doc",
        "/dumps/..%2fprerendered%2fdoc",
        "/prerendered/doc/",
    ],
)
def test_hostile_paths_get_the_same_answers(
    servers: tuple[ServerProcess, ServerProcess, Path], path: str
) -> None:
    with_files, without, _ = servers
    got = ask(with_files, path)
    assert got == ask(without, path)
    assert got[0] != 200 or b"sha256" not in got[2].lower()


def test_other_rendering_settings_render_on_first_request(
    built: tuple[Path, Path, str], tmp_path: Path
) -> None:
    """A server whose rendering settings differ from the build's never serves the build's
    bodies (its title is on every HTML page)."""
    pre, _, base = built
    server = ServerProcess(
        pre,
        workers=1,
        env={"PUBLISHER_CACHE_DIR": str(tmp_path), "PUBLISHER_TITLE": "Xocalı – другой"},
    )
    try:
        thing = documents(pre, base)[0]
        response = requests.get(server.url + doc_url(thing, formats.HTML), timeout=30)
        assert response.status_code == 200
        assert "Xocalı – другой" in response.text
        assert doc_cache_files(tmp_path)  # rendered here, not read from dist/prerendered/
    finally:
        server.stop()


def test_a_new_build_replaces_them(
    built: tuple[Path, Path, str], servers: tuple[ServerProcess, ServerProcess, Path]
) -> None:
    """An incremental build with a changed label: the new build's pre-rendered variants say
    it, the server switches to them, nothing of the previous build is served."""
    pre, _, _ = built
    with_files, _, cache = servers
    path = doc_url("/doc/place/khojaly", formats.TURTLE)
    before = requests.get(with_files.url + path, timeout=30)
    assert before.status_code == 200 and "Khodjaly (nouveau)" not in before.text
    curated = pre.parent / "data" / "curated.trig"
    text = curated.read_text(encoding="utf-8")
    curated.write_text(text.replace('"Khodjaly"@fr', '"Khodjaly (nouveau)"@fr'), encoding="utf-8")
    base = built[2]
    build(pre, base=base, data=pre.parent / "data")
    started = time.monotonic()
    after = before
    while time.monotonic() - started < 30 and after.headers["ETag"] == before.headers["ETag"]:
        time.sleep(0.2)
        after = requests.get(with_files.url + path, timeout=30)
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "Khodjaly (nouveau)" in after.text and "Ходжалы" in after.text
    assert doc_cache_files(cache) == []  # served from the new build's pre-rendered files


def test_auto_prerenders_only_small_datasets_and_a_bad_mode_is_refused(
    built: tuple[Path, Path, str], tmp_path: Path
) -> None:
    _, plain, base = built
    copy = tmp_path / "dist"
    shutil.copytree(plain, copy)
    settings = load_settings({"base_uri": base}, environ={})
    assert prerender(copy, settings, limit=1) == 0
    assert not (copy / PRERENDERED).exists()
    assert not (copy / ".prerender-cache").exists()
    assert prerender_hook(load_settings({"doc_prerender": "first-request"}, environ={})) is None
    with pytest.raises(BuildError, match="doc_prerender"):
        prerender_hook(load_settings({"doc_prerender": "sometimes"}, environ={}))
