"""The SPARQL result cache of a build (web/sparql.py, web/disk_cache.py): a cached answer is the
fresh one byte for byte in every format, a new build never gets an older build's answer, errors
and truncated answers are not kept, the bytes kept stay within the bound, and GET answers carry
an ETag of the build and the request that If-None-Match turns into a 304.

Real app (its query workers are real processes) on the sample dataset, whose labels are in
Azerbaijani and Russian; real builds for the switch; real HTTP for the validators.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdf_checks import parse
from support import build_data_only, in_process_app

from publisher import formats
from publisher.store.workers import shutdown_all
from publisher.web.disk_cache import DiskCache, build_cache_root

LABELS = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?place ?label WHERE { ?place rdfs:label ?label FILTER(lang(?label) IN ("az", "ru")) }
ORDER BY ?place ?label"""
CONSTRUCT_LABELS = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
CONSTRUCT { ?place rdfs:label ?label } WHERE { ?place rdfs:label ?label }"""


@pytest.fixture(scope="module")
def apps(sample_dist: Path) -> Iterator[tuple]:
    # The replay of whole answers (web/fast_path.py, tests/test_fast_path.py) is off here:
    # these requests are to reach the result cache.
    cached = in_process_app(
        sample_dist, sparql_cache_max_bytes=4_000_000, response_cache_max_bytes=0
    )
    fresh = in_process_app(sample_dist, sparql_cache_max_bytes=0, response_cache_max_bytes=0)
    yield cached.test_client(), fresh.test_client()
    shutdown_all()


def get(client, query: str, fmt: formats.Format, **headers: str):
    response = client.get(
        "/sparql", query_string={"query": query}, headers={"Accept": fmt.media_type, **headers}
    )
    assert response.status_code == 200, response.data
    return response


@pytest.mark.parametrize(
    ("query", "fmt"),
    [(LABELS, f) for f in formats.RESULT_FORMATS]
    + [(CONSTRUCT_LABELS, f) for f in formats.RDF_FORMATS],
    ids=lambda v: v.name if isinstance(v, formats.Format) else "",
)
def test_a_cached_answer_is_the_fresh_answer(apps, query: str, fmt: formats.Format) -> None:
    cached, fresh = apps
    first = get(cached, query, fmt)
    get(cached, query, fmt)  # kept from its second request (min_uses)
    again = get(cached, query, fmt)
    assert again.headers["Server-Timing"].startswith("cache;"), again.headers["Server-Timing"]
    uncached = get(fresh, query, fmt)
    assert uncached.headers["Server-Timing"].startswith("query;")
    assert again.data == first.data == uncached.data
    assert again.headers["Content-Type"] == uncached.headers["Content-Type"]
    assert again.headers["X-SPARQL-Rows"] == uncached.headers["X-SPARQL-Rows"]
    text = again.data.decode("utf-8")
    if fmt.family is formats.Family.RDF:
        parsed = parse(again.data, fmt.name, base="http://example.org/")
        labels = {str(q[2]) for q in parsed.quads((None, None, None, None))}
        assert {"Xocalı", "Ходжалы"} <= labels
    else:
        assert "Xocalı" in text and "Ходжалы" in text, text


def test_each_format_is_its_own_entry(apps) -> None:
    cached, _ = apps
    as_json = get(cached, LABELS, formats.SPARQL_JSON)
    as_csv = get(cached, LABELS, formats.CSV)
    assert as_json.data != as_csv.data
    assert json.loads(as_json.data)["head"]["vars"] == ["place", "label"]
    assert as_csv.data.startswith(b"place,label")


def test_errors_and_truncated_answers_are_not_kept(sample_dist: Path, tmp_path: Path) -> None:
    app = in_process_app(sample_dist, sparql_max_rows=2, cache_dir=str(tmp_path / "cache"))
    client = app.test_client()
    try:
        for _ in range(2):
            cut = get(client, LABELS, formats.SPARQL_JSON)
            assert cut.headers["X-SPARQL-Truncated"].startswith("true")
            assert cut.headers["Server-Timing"].startswith("query;")
            assert "ETag" not in cut.headers
            assert "no-cache" in cut.headers["Cache-Control"]
        for _ in range(2):
            wrong = client.get("/sparql", query_string={"query": "SELECT ?x WHERE { ?x }"})
            assert wrong.status_code == 400
        assert _kept_bytes(tmp_path / "cache") == 0
        for _ in range(2):  # kept from its second request
            whole = get(client, "ASK { ?s ?p ?o }", formats.SPARQL_JSON)
            assert whole.headers["Server-Timing"].startswith("query;")
        assert _kept_bytes(tmp_path / "cache") > 0
    finally:
        shutdown_all()


def _kept_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and p.name[0] != ".")


def test_the_cache_stays_within_its_byte_bound(sample_dist: Path, tmp_path: Path) -> None:
    bound = 6_000
    root = tmp_path / "cache"
    app = in_process_app(
        sample_dist, sparql_cache_max_bytes=bound, response_cache_max_bytes=0, cache_dir=str(root)
    )
    client = app.test_client()
    try:
        total = 0
        for i in range(40):
            query = f"SELECT * WHERE {{ ?s ?p ?o }} ORDER BY ?s ?p ?o LIMIT {i % 4 + 1} OFFSET {i}"
            for _ in range(2):  # kept from its second request
                total += len(get(client, query, formats.SPARQL_JSON).data)
            assert 0 < _kept_bytes(root) <= bound
        assert total > 6 * bound  # the answers were filled well past the bound
        # The newest answers are kept: the last one is served from the cache.
        again = get(client, query, formats.SPARQL_JSON)
        assert again.headers["Server-Timing"].startswith("cache;")
    finally:
        shutdown_all()


def test_disk_cache_bound_with_entries_of_every_size(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c", max_bytes=10_000)
    for i in range(300):
        value = ("Xocalı Ходжалы " * (i % 50 + 1)).encode("utf-8")
        kept = cache.put(f"key {i}", value)
        assert kept
        assert cache.get(f"key {i}") == value
        assert cache.bytes_used() <= 10_000
    assert not cache.put("too big", b"x" * 10_001)
    assert cache.get("too big") is None
    assert not DiskCache(tmp_path / "off", max_bytes=0).put("k", b"v")


def test_an_answer_asked_once_is_not_written(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "c", max_bytes=10_000, min_uses=2)
    assert not cache.put("Xocalı", b"first time")
    assert cache.get("Xocalı") is None and cache.bytes_used() == 0
    assert cache.put("Xocalı", b"second time")
    assert cache.get("Xocalı") == b"second time"


def test_a_new_build_never_serves_the_previous_builds_answer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    dist = tmp_path / "dist"

    def publish(label: str) -> None:
        (data / "places.trig").write_text(
            "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
            f'<graph/places> {{ <id/place/khojaly> rdfs:label "{label}"@az . }}\n',
            encoding="utf-8",
        )
        build_data_only(dist, base="http://example.org/", data_dir=data)

    query = "SELECT ?label WHERE { ?place <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    publish("Xocalı")
    app = in_process_app(dist, reload_check_ms=1)
    client = app.test_client()
    try:
        for _ in range(3):
            answer = get(client, query, formats.SPARQL_JSON)
            assert "Xocalı" in answer.data.decode("utf-8")
            page = client.get("/doc/place/khojaly.ttl")
            assert "Xocalı" in page.data.decode("utf-8")
        assert answer.headers["Server-Timing"].startswith(("cache;", "replay"))
        etag = answer.headers["ETag"]
        time.sleep(1.1)  # a build id carries the second it was made
        publish("Ходжалы")
        time.sleep(0.01)
        after = get(client, query, formats.SPARQL_JSON, **{"If-None-Match": etag})
        assert "Ходжалы" in after.data.decode("utf-8")
        assert "Xocalı" not in after.data.decode("utf-8")
        assert after.headers["ETag"] != etag
        page = client.get("/doc/place/khojaly.ttl")
        assert "Ходжалы" in page.data.decode("utf-8"), page.data
        # The older build's directory was removed when the new build was first used.
        builds = [p for p in build_cache_root(dist, "").iterdir() if p.is_dir()]
        assert len(builds) == 1, builds
    finally:
        shutdown_all()


def test_etag_and_304_over_http(sample_server) -> None:
    url = sample_server.url + "/sparql"
    params = {"query": LABELS}
    first = requests.get(url, params=params, headers={"Accept": "text/csv"}, timeout=30)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.headers["Vary"].startswith("Accept")
    assert "public" in first.headers["Cache-Control"]
    assert "max-age=300" in first.headers["Cache-Control"]
    again = requests.get(
        url, params=params, headers={"Accept": "text/csv", "If-None-Match": etag}, timeout=30
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["ETag"] == etag
    # Another format of the same query is another representation: another validator.
    as_json = requests.get(
        url,
        params=params,
        headers={"Accept": "application/sparql-results+json", "If-None-Match": etag},
        timeout=30,
    )
    assert as_json.status_code == 200
    assert as_json.headers["ETag"] != etag
    # POST: answered (from the cache when kept) without validators.
    posted = requests.post(url, data=params, headers={"Accept": "text/csv"}, timeout=30)
    assert posted.status_code == 200
    assert posted.content == first.content
    assert "ETag" not in posted.headers
    # An HTTP cache in front can parse what it gets.
    assert first.text.splitlines()[0] == "place,label"


def _fill(directory: str, worker: int) -> None:
    cache = DiskCache(Path(directory), max_bytes=20_000)
    for i in range(150):
        cache.put(f"{worker}-{i}", ("Ходжалы " * (i % 40 + 1)).encode("utf-8"))


def test_processes_filling_one_cache_keep_its_bound(tmp_path: Path) -> None:
    """The web processes of one server write the same directory at once."""
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_fill, args=(str(tmp_path / "c"), n)) for n in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    cache = DiskCache(tmp_path / "c", max_bytes=20_000)
    assert 0 < cache.bytes_used() <= 20_000
    ledger = int((tmp_path / "c" / ".ledger").read_text().strip())
    assert ledger == cache.bytes_used()
