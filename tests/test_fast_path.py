"""web/fast_path: complete answers of this build replayed before the app runs, the same bytes
and headers as the app's own, with 304 for a matching If-None-Match; everything else (other
preconditions, ranges, HEAD, POST, errors) still reaches the app."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from support import in_process_app

from publisher.store.workers import shutdown_all

SELECT = "SELECT ?label WHERE { ?place <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
QUERY_PATH = "/sparql?" + urlencode({"query": SELECT})


@pytest.fixture(scope="module")
def client(sample_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    cache = tmp_path_factory.mktemp("replay-cache")
    yield in_process_app(sample_dist, cache_dir=str(cache)).test_client()
    shutdown_all()


def _same_answer(first, again) -> None:
    assert again.status_code == first.status_code == 200
    assert again.data == first.data
    expected = {k: v for k, v in first.headers.items() if k != "Server-Timing"}
    replayed = {k: v for k, v in again.headers.items() if k != "Server-Timing"}
    assert replayed == expected


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (QUERY_PATH, {"Accept": "text/csv"}),
        (QUERY_PATH, {"Accept": "application/sparql-results+json"}),
        ("/doc/place/khojaly", {"Accept": "text/turtle"}),
        ("/doc/place/khojaly.nq", {}),
        ("/doc/place/khojaly", {"Accept": "text/html", "Accept-Language": "az"}),
        ("/doc/place/khojaly", {"Accept": "text/html", "Accept-Encoding": "gzip"}),
    ],
)
def test_a_replay_is_the_apps_answer(client, path: str, headers: dict[str, str]) -> None:
    first = client.get(path, headers=headers)
    client.get(path, headers=headers)  # kept from its second request (MIN_USES)
    again = client.get(path, headers=headers)
    _same_answer(first, again)
    if path.startswith("/sparql"):
        assert first.headers["Server-Timing"] != "replay"
        assert again.headers["Server-Timing"] == "replay"
    if again.headers.get("Content-Encoding") == "gzip":
        assert b"Xocal" in gzip.decompress(again.data)


def test_the_language_of_the_reader_keys_the_replay(client) -> None:
    for header, label in (("az", "Xocalı"), ("ru", "Ходжалы"), ("az", "Xocalı"), ("ru", "Ходжалы")):
        page = client.get(
            "/doc/place/khojaly", headers={"Accept": "text/html", "Accept-Language": header}
        )
        heading = page.get_data(as_text=True).split("</h1>")[0].rsplit("<h1", 1)[-1]
        assert label in heading, (header, heading)


def test_if_none_match_gets_304_and_other_preconditions_reach_the_app(client) -> None:
    path = QUERY_PATH
    first = client.get(path, headers={"Accept": "text/csv"})
    client.get(path, headers={"Accept": "text/csv"})
    etag = first.headers["ETag"]
    not_modified = client.get(path, headers={"Accept": "text/csv", "If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.data == b""
    assert not_modified.headers["ETag"] == etag
    assert "Content-Type" not in not_modified.headers
    other = client.get(path, headers={"Accept": "text/csv", "If-None-Match": 'W/"other"'})
    _same_answer(first, other)
    # If-Match with a strong comparison: the app's answer (412 for a weak ETag), not a replay.
    refused = client.get(path, headers={"Accept": "text/csv", "If-Match": etag})
    assert refused.status_code == 412
    head = client.head(path, headers={"Accept": "text/csv"})
    assert head.status_code == 200 and head.data == b""


def test_errors_are_never_replayed(client) -> None:
    for _ in range(3):
        wrong = client.get("/sparql", query_string={"query": "SELECT ?x WHERE { ?x }"})
        assert wrong.status_code == 400
        missing = client.get("/doc/place/nowhere-xocalı")
        assert missing.status_code == 404


def test_hot_replays_stay_within_their_byte_bound() -> None:
    from publisher.web.fast_path import HotReplays, Kept

    def kept(body: bytes) -> Kept:
        headers = [["Content-Type", "text/turtle"], ["ETag", 'W/"b-1"']]
        return Kept.from_entry(json.dumps(headers).encode() + b"\n" + body)

    hot = HotReplays(max_bytes=4_000)
    for number in range(200):
        label = ("Xocalı " if number % 2 else "Ходжалы ").encode() * (number % 40)
        hot.put(f"/doc/{number}\0Ходжалы", kept(label))
        assert hot.bytes <= hot.max_bytes
    assert 0 < len(hot) < 200
    assert hot.get("/doc/199\0Ходжалы") is not None  # the most recent stays
    assert hot.get("/doc/0\0Ходжалы") is None  # the oldest went first
    hot.put("/doc/huge", kept(b"x" * 5_000))  # larger than the whole bound: not kept
    assert hot.get("/doc/huge") is None and hot.bytes <= hot.max_bytes
    assert hot.get("/doc/199\0Ходжалы") is not None
    replay = hot.get("/doc/199\0Ходжалы")
    assert replay is not None and replay.etag == 'W/"b-1"'
    assert ("Content-Type", "text/turtle") not in replay.not_modified_headers


def test_without_memory_replays_are_read_from_disk_and_the_same(
    sample_dist: Path, tmp_path: Path
) -> None:
    """replay_memory_max_bytes 0: every replay reads its file; the answer is the same."""
    answers = []
    for memory in (0, 1_000_000):
        app = in_process_app(
            sample_dist, cache_dir=str(tmp_path / str(memory)), replay_memory_max_bytes=memory
        )
        client = app.test_client()
        for _ in range(3):
            answer = client.get(QUERY_PATH, headers={"Accept": "text/csv"})
        assert answer.headers["Server-Timing"] == "replay"
        answers.append(answer)
    shutdown_all()
    without, with_memory = answers
    assert without.data == with_memory.data
    assert dict(without.headers) == dict(with_memory.headers)
