"""Dumps under their plain names (dataset.ttl ...): from the stored .gz bytes, gzip-encoded for
clients that accept it and decoded for those that do not, with the RDF format's media type.
A real server and real clients (rdflib fetching a URL, urllib without Accept-Encoding)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import urllib.request
from pathlib import Path

import pytest
import rdflib
import requests

from publisher import formats

DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
IANA = "http://www.iana.org/assignments/media-types/"


@pytest.mark.parametrize("fmt", formats.DUMP_FORMATS, ids=lambda f: f.name)
def test_rdflib_loads_every_plain_dump_url(live_server, seed_dist: Path, fmt) -> None:
    """rdflib reads only the default graph of a dataset format: it is the union."""
    triples = json.loads((seed_dist / "build.json").read_text())["triples"]
    graph = rdflib.Graph().parse(
        f"{live_server.url}/dumps/{formats.dump_name(fmt, compressed=False)}"
    )
    assert len(graph) == triples


def test_a_client_without_gzip_gets_the_decoded_bytes(live_server, seed_dist: Path) -> None:
    request = urllib.request.Request(live_server.url + "/dumps/dataset.ttl")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
        assert response.headers.get("Content-Encoding") is None
        assert "Accept-Encoding" in response.headers["Vary"]
        body = response.read()
        etag = response.headers["ETag"]
    assert body == gzip.decompress((seed_dist / "dataset.ttl.gz").read_bytes())
    again = requests.get(
        live_server.url + "/dumps/dataset.ttl",
        headers={"If-None-Match": etag, "Accept-Encoding": "identity"},
        timeout=30,
    )
    assert again.status_code == 304


def test_a_client_with_gzip_gets_the_stored_bytes(live_server, seed_dist: Path) -> None:
    response = requests.get(
        live_server.url + "/dumps/dataset.nq",
        headers={"Accept-Encoding": "gzip"},
        stream=True,
        timeout=30,
    )
    raw = response.raw.read(decode_content=False)
    stored = (seed_dist / "dataset.nq.gz").read_bytes()
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Type"] == "application/n-quads; charset=utf-8"
    assert raw == stored
    digest = base64.b64encode(hashlib.sha256(stored).digest()).decode()
    assert response.headers["Content-Digest"] == f"sha-256=:{digest}:"
    # The .gz name still answers the file itself.
    gz = requests.get(live_server.url + "/dumps/dataset.nq.gz", timeout=30)
    assert gz.headers["Content-Type"] == "application/gzip" and gz.content == stored


def test_unknown_plain_names_are_404(live_server) -> None:
    for name in ("dataset.xyz", "void", "SHA256SUMS.gz", "dataset.ttl.gz.gz"):
        assert requests.get(f"{live_server.url}/dumps/{name}", timeout=30).status_code == 404


def test_dcat_lists_the_plain_dumps_with_decoded_checksums(seed_dist: Path, seed_base: str) -> None:
    void = rdflib.Graph().parse(seed_dist / "void.ttl", format="turtle")
    dataset = rdflib.URIRef(seed_base + "dataset")
    for fmt in formats.DUMP_FORMATS:
        name = formats.dump_name(fmt, compressed=False)
        distribution = rdflib.URIRef(f"{seed_base}dumps/{name}")
        assert (dataset, DCAT.distribution, distribution) in void, name
        assert void.value(distribution, DCAT.mediaType) == rdflib.URIRef(IANA + fmt.media_type)
        assert void.value(distribution, DCAT.compressFormat) is None
        decoded = gzip.decompress((seed_dist / formats.dump_name(fmt)).read_bytes())
        checksum = void.value(void.value(distribution, SPDX.checksum), SPDX.checksumValue)
        assert str(checksum) == hashlib.sha256(decoded).hexdigest()
        assert int(void.value(distribution, DCAT.byteSize)) == len(decoded)
