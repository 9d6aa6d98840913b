"""Against a real `publisher serve` (gunicorn, subprocess) over real HTTP.

A crawler starts from the home page and the dataset description, follows links in HTML and
IRIs in RDF that fall under the base, and must reach every IRI under {base}id/ that occurs in
the data (read independently from the N-Quads dump). Every variant of every resource it
reaches is parsed with rdflib, and the variants of one resource must be isomorphic. Then the
HTTP mechanics (303, Vary, ETag/304, HEAD, 404, 406, Range, gzip, CORS) are checked on the wire.

Runs on both datasets: the sample (IRI edge cases) and the seed (the real data).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import rdflib
import requests
from html_checks import check_html
from rdf_checks import check_variants, parse
from support import ServerProcess

from publisher import formats

RESOURCE_PREFIXES = ("/id/", "/doc/", "/def/", "/graph/")
RESOURCE_PATHS = ("/def/", "/dataset", "/shapes")
SKIPPED_PREFIXES = ("/sparql", "/static/", "/dumps/")  # other concerns; checked elsewhere


@dataclass
class Site:
    server: ServerProcess
    dist: Path
    base: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(params=["sample", "seed"], scope="module")
def site(request) -> Site:
    if request.param == "sample":
        server, dist = (
            request.getfixturevalue("sample_server"),
            request.getfixturevalue("sample_dist"),
        )
    else:
        server, dist = request.getfixturevalue("live_server"), request.getfixturevalue("seed_dist")
    import json

    base = json.loads((dist / "build.json").read_text())["base"]
    return Site(server, dist, base)


def iris_in_dump(dist: Path, base: str) -> set[str]:
    """Every IRI under {base}id/ in the published data, read with rdflib (not the server)."""
    dataset = rdflib.Dataset()
    dataset.parse(data=gzip.decompress((dist / "dataset.nq.gz").read_bytes()), format="nquads")
    found = set()
    for quad in dataset.quads((None, None, None, None)):
        for term in quad:
            if isinstance(term, rdflib.URIRef) and str(term).startswith(base + "id/"):
                found.add(str(term))
    return found


def resource_key(path: str) -> str | None:
    """The generic document path of a resource URL: /id/x and /doc/x.ttl -> /doc/x."""
    if path in ("/def", "/def/") or path.startswith("/def."):
        return "/def"
    for name in ("/dataset", "/shapes"):
        if path == name or path.startswith(name + "."):
            return name
    if not path.startswith(RESOURCE_PREFIXES):
        return None
    if path.startswith("/id/"):
        path = "/doc/" + path[len("/id/") :]
    stem, dot, extension = path.rpartition(".")
    if dot and "/" not in extension and formats.by_extension(extension):
        path = stem
    return path


@dataclass
class Crawl:
    site: Site
    session: requests.Session = field(default_factory=requests.Session)
    resources: set[str] = field(default_factory=set)  # generic document paths reached
    pages: int = 0

    def local(self, link: str, page_url: str) -> str | None:
        absolute = urljoin(page_url, link)
        if absolute.startswith(self.site.base):
            absolute = self.site.url + "/" + absolute[len(self.site.base) :]
        if not absolute.startswith(self.site.url + "/"):
            return None
        parts = urlsplit(absolute)
        return parts.path if not parts.query else None

    def run(self) -> None:
        queue: deque[str] = deque(["/", "/dataset"])
        seen: set[str] = set(queue)
        while queue:
            path = queue.popleft()
            for found in self.visit(path):
                link = resource_key(found) or found  # variants lead to the same resource
                if link not in seen and not link.startswith(SKIPPED_PREFIXES):
                    seen.add(link)
                    queue.append(link)

    def visit(self, path: str) -> list[str]:
        url = self.site.url + path
        key = resource_key(path)
        found: list[str] = []
        html = self.session.get(url, headers={"Accept": "text/html"}, timeout=30)
        assert html.status_code == 200, (path, html.status_code)
        if key is None and html.headers["Content-Type"] != "text/html; charset=utf-8":
            return found  # a file linked from a page (sitemap, context): there, not a page
        assert html.headers["Content-Type"] == "text/html; charset=utf-8"
        checker = check_html(html.text)
        self.pages += 1
        found += [p for link in checker.links if (p := self.local(link, html.url))]
        if key is None:
            return found
        self.resources.add(key)
        turtle = self.session.get(url, headers={"Accept": "text/turtle"}, timeout=30)
        assert turtle.status_code == 200, (path, turtle.status_code)
        graph = parse(turtle.content, "turtle", base=self.site.base)
        for quad in graph.quads((None, None, None, None)):
            for term in quad[:3]:
                if isinstance(term, rdflib.URIRef) and str(term).startswith(self.site.base):
                    local = self.local(str(term), turtle.url)
                    if local:
                        found.append(local)
        return found


@pytest.fixture(scope="module")
def crawl(site: Site) -> Crawl:
    crawler = Crawl(site)
    crawler.run()
    return crawler


def test_crawler_reaches_every_resource(site: Site, crawl: Crawl) -> None:
    expected = {
        "/doc/" + iri[len(site.base + "id/") :] for iri in iris_in_dump(site.dist, site.base)
    }
    reached = {unquote(p) for p in crawl.resources}
    expected = {unquote(p) for p in expected}
    assert expected, "the dataset has things under /id/"
    missing = expected - reached
    assert not missing, f"not reachable from / and /dataset: {sorted(missing)[:20]}"
    assert "/def" in reached and "/dataset" in reached
    assert any(p.startswith("/graph/") for p in reached)


def test_every_variant_of_every_resource_parses_and_agrees(site: Site, crawl: Crawl) -> None:
    session = requests.Session()
    # One spelling per resource (a link may be percent-encoded or not: same IRI, same page).
    for key in sorted({unquote(k): k for k in crawl.resources}.values()):
        variants = {}
        for fmt in formats.RDF_FORMATS:
            response = session.get(f"{site.url}{key}.{fmt.extension}", timeout=30)
            assert response.status_code == 200, (key, fmt.name)
            assert response.headers["Content-Type"] == fmt.content_type
            variants[fmt.name] = response.content
        check_variants(variants, base=site.base)
        # The negotiated generic document is the same bytes as the explicit variant.
        negotiated = session.get(site.url + key, headers={"Accept": "application/n-quads"})
        assert negotiated.content == variants["nquads"]
        assert unquote(negotiated.headers["Content-Location"]) == unquote(key) + ".nq"


# -- HTTP on the wire ----------------------------------------------------------------------
def first_thing(site: Site) -> str:
    return "/doc/" + min(iris_in_dump(site.dist, site.base))[len(site.base + "id/") :]


def test_303_from_id_to_doc(site: Site) -> None:
    path = first_thing(site).replace("/doc/", "/id/", 1)
    for accept, extension in (("text/html", "html"), ("text/turtle", "ttl"), ("*/*", "ttl")):
        response = requests.get(
            site.url + path, headers={"Accept": accept}, allow_redirects=False, timeout=10
        )
        assert response.status_code == 303
        assert response.headers["Location"].endswith("." + extension)
        assert "Accept" in response.headers["Vary"]
        followed = requests.get(site.url + path, headers={"Accept": accept}, timeout=10)
        assert followed.status_code == 200
        assert followed.history[0].status_code == 303


def test_vary_etag_304_and_last_modified(site: Site) -> None:
    url = site.url + first_thing(site)
    for accept in ("text/turtle", "text/html", "application/ld+json"):
        first = requests.get(url, headers={"Accept": accept}, timeout=10)
        assert first.status_code == 200
        vary = {v.strip() for v in first.headers["Vary"].split(",")}
        assert "Accept" in vary
        if accept == "text/html":
            assert "Accept-Language" in vary
        again = requests.get(
            url, headers={"Accept": accept, "If-None-Match": first.headers["ETag"]}, timeout=10
        )
        assert again.status_code == 304
        assert again.headers["ETag"] == first.headers["ETag"]
        since = requests.get(
            url,
            headers={"Accept": accept, "If-Modified-Since": first.headers["Last-Modified"]},
            timeout=10,
        )
        assert since.status_code == 304


def test_head_on_the_wire(site: Site) -> None:
    for path in (first_thing(site), "/", "/dataset", "/dumps/dataset.nq.gz", "/sitemap.xml"):
        get = requests.get(site.url + path, headers={"Accept-Encoding": "identity"}, timeout=10)
        head = requests.head(site.url + path, headers={"Accept-Encoding": "identity"}, timeout=10)
        assert head.status_code == 200 == get.status_code
        assert head.content == b""
        assert head.headers["Content-Length"] == str(len(get.content))
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
        assert head.headers.get("ETag") == get.headers.get("ETag")


def test_404_and_406_on_the_wire(site: Site) -> None:
    missing = site.url + "/doc/nothing/here"
    turtle = requests.get(missing, headers={"Accept": "text/turtle"}, timeout=10)
    assert turtle.status_code == 404
    assert len(parse(turtle.content, "turtle", base=site.base)) == 0
    html = requests.get(missing, headers={"Accept": "text/html"}, timeout=10)
    assert html.status_code == 404
    check_html(html.text)
    refused = requests.get(site.url + first_thing(site), headers={"Accept": "image/png"})
    assert refused.status_code == 406
    assert "application/n-quads" in refused.text
    bad = requests.get(site.url + "/doc/a//b/", timeout=10)
    assert bad.status_code in (400, 308)  # 308 when werkzeug merges the slashes first


def test_range_requests_on_dumps(site: Site) -> None:
    url = site.url + "/dumps/dataset.nq.gz"
    whole = (site.dist / "dataset.nq.gz").read_bytes()
    part = requests.get(url, headers={"Range": "bytes=10-109"}, timeout=10)
    assert part.status_code == 206
    assert part.content == whole[10:110]
    assert part.headers["Content-Range"] == f"bytes 10-109/{len(whole)}"
    tail = requests.get(url, headers={"Range": "bytes=-50"}, timeout=10)
    assert tail.content == whole[-50:]
    etag = requests.head(url, timeout=10).headers["ETag"]
    resumed = requests.get(url, headers={"Range": "bytes=100-", "If-Range": etag}, timeout=10)
    assert resumed.status_code == 206 and resumed.content == whole[100:]
    stale = requests.get(url, headers={"Range": "bytes=100-", "If-Range": '"other"'}, timeout=10)
    assert stale.status_code == 200 and stale.content == whole
    beyond = requests.get(url, headers={"Range": f"bytes={len(whole) + 10}-"}, timeout=10)
    assert beyond.status_code == 416


def test_dumps_listing_matches_the_files(site: Site) -> None:
    listing = requests.get(site.url + "/dumps/", timeout=10).text
    check_html(listing)
    for path in sorted(site.dist.iterdir()):
        if not path.is_file():
            continue
        assert f'href="/dumps/{path.name}"' in listing
        assert str(path.stat().st_size) in listing
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if path.name != "SHA256SUMS":
            assert digest in listing
        response = requests.get(site.url + "/dumps/" + path.name, timeout=10)
        assert response.status_code == 200
        assert hashlib.sha256(response.content).hexdigest() == digest
        assert response.headers["Content-Type"] == formats.describe_file(path.name)[0]


def test_gzip_and_cors_on_the_wire(site: Site) -> None:
    host, port = "127.0.0.1", site.server.port
    connection = http.client.HTTPConnection(host, port, timeout=10)
    try:
        for path in (first_thing(site) + ".html", "/", "/sitemap.xml"):
            connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200
            assert response.getheader("Content-Encoding") == "gzip"
            assert "Accept-Encoding" in response.getheader("Vary")
            assert gzip.decompress(body).startswith((b"<!doctype html>", b"<?xml"))
            assert response.getheader("Access-Control-Allow-Origin") == "*"
        connection.request("GET", "/dumps/dataset.ttl.gz", headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        response.read()
        assert response.getheader("Content-Encoding") is None  # already a gzip file
    finally:
        connection.close()


def test_well_known_void_and_robots_on_the_wire(site: Site) -> None:
    void = requests.get(site.url + "/.well-known/void", headers={"Accept": "text/turtle"})
    assert void.history and void.history[0].status_code == 303
    assert len(parse(void.content, "turtle", base=site.base)) > 0
    robots = requests.get(site.url + "/robots.txt", timeout=10)
    assert robots.status_code == 200 and "Sitemap:" in robots.text
