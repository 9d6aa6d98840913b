"""Range and conditional requests as RFC 9110 has them (issue 7, item 24)."""

from __future__ import annotations

import pytest

PAST = "Mon, 01 Jan 2001 00:00:00 GMT"


@pytest.mark.parametrize("path", ["/dumps/SHA256SUMS", "/dumps/dataset.nq.gz"])
def test_a_multi_range_request_gets_the_whole_file(client, path: str) -> None:
    whole = client.get(path)
    response = client.get(path, headers={"Range": "bytes=0-1,5-6"})
    assert response.status_code == 200
    assert response.data == whole.data
    single = client.get(path, headers={"Range": "bytes=0-3"})
    assert single.status_code == 206 and single.data == whole.data[:4]


@pytest.mark.parametrize(
    "path", ["/dumps/SHA256SUMS", "/dumps/", "/doc/place/khojaly.ttl", "/doc/place/khojaly"]
)
def test_a_failed_if_match_is_an_empty_412(client, path: str) -> None:
    response = client.get(path, headers={"If-Match": '"not-this-one"'})
    assert response.status_code == 412
    assert response.data == b""


def test_a_matching_if_match_gets_the_file(client) -> None:
    etag = client.get("/dumps/SHA256SUMS").headers["ETag"]
    response = client.get("/dumps/SHA256SUMS", headers={"If-Match": etag})
    assert response.status_code == 200 and response.data
    assert client.get("/dumps/SHA256SUMS", headers={"If-Match": "*"}).status_code == 200
    both = client.get("/dumps/SHA256SUMS", headers={"If-Match": etag, "If-None-Match": etag})
    assert both.status_code == 304


@pytest.mark.parametrize("path", ["/dumps/SHA256SUMS", "/dumps/", "/doc/place/khojaly.ttl"])
def test_if_unmodified_since_in_the_past_is_412(client, path: str) -> None:
    response = client.get(path, headers={"If-Unmodified-Since": PAST})
    assert response.status_code == 412 and response.data == b""
    last_modified = client.get(path).headers["Last-Modified"]
    fresh = client.get(path, headers={"If-Unmodified-Since": last_modified})
    assert fresh.status_code == 200 and fresh.data
