"""Links only to http(s) and local IRIs, security headers on every response, proxy headers
trusted only when configured (issue 7, items 17 and 22)."""

from __future__ import annotations

import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import FIXTURES, ServerProcess, build_dist, free_port, in_process_app

HOSTILE_IRIS = (
    "javascript:alert('iri')",
    "JaVaScRiPt:alert(2)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgzKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(4)",
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The sample data plus a place linked to script IRIs and to a //host path under the base."""
    root = tmp_path_factory.mktemp("hostile")
    data = root / "data"
    shutil.copytree(FIXTURES / "linked-data" / "data", data)
    base = "http://127.0.0.1:9/"
    links = " , ".join(f"<{iri}>" for iri in HOSTILE_IRIS)
    (data / "hostile.trig").write_text(
        "@prefix schema: <https://schema.org/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "<graph/curated> {\n"
        '  <id/place/hostile> a schema:Place ; rdfs:label "Hostile Xocalı"@az ;\n'
        f"    owl:sameAs {links} , <{base}/evil.example/x> .\n"
        "}\n",
        encoding="utf-8",
    )
    dist = build_dist(root / "dist", base=base, data_dir=data, validate=False)
    return dist, base


@pytest.fixture(scope="module")
def hostile_client(hostile: tuple[Path, str]):
    return in_process_app(hostile[0]).test_client()


def hrefs(html: str) -> list[str]:
    return re.findall(r'<a [^>]*href="([^"]*)"', html)


def assert_only_safe_links(html: str) -> None:
    for href in hrefs(html):
        assert href.startswith(("/", "http://", "https://", "#")), href
        assert not href.startswith("//"), href


def test_a_resource_page_links_no_script_or_host_relative_iri(hostile_client) -> None:
    page = hostile_client.get("/doc/place/hostile", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hostile Xocalı" in html
    assert_only_safe_links(html)
    # The IRIs are still shown, as text.
    assert "vbscript:msgbox(4)" in html
    assert "evil.example/x" in html


def test_the_graph_page_links_no_script_iri(hostile_client) -> None:
    page = hostile_client.get("/graph/curated", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert_only_safe_links(page.get_data(as_text=True))


@pytest.mark.parametrize("iri", [*HOSTILE_IRIS, "http://127.0.0.1:9//evil.example/"])
def test_sparql_results_page_does_not_link_a_reflected_iri(hostile_client, iri: str) -> None:
    query = f'SELECT (IRI("{iri}") AS ?x) {{}}'
    page = hostile_client.get("/sparql", query_string={"query": query, "format": "html"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<table" in html
    assert_only_safe_links(html)


@pytest.mark.parametrize(
    "path",
    ["/", "/doc/place/hostile", "/sparql", "/dumps/", "/static/style.css", "/no/such/thing"],
)
def test_every_response_carries_the_security_headers(hostile_client, path: str) -> None:
    response = hostile_client.get(path, headers={"Accept": "text/html"})
    csp = response.headers["Content-Security-Policy"]
    # Scripts only from this server (search completion; the query page's editor), never
    # inline; only the query page lets its editor (YASGUI, CodeMirror) set inline styles.
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "script-src 'self' 'unsafe-inline'" not in csp
    if path != "/sparql":
        assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]


def test_pages_have_no_inline_style_the_policy_would_block(hostile_client) -> None:
    for path in ("/", "/doc/place/hostile", "/sparql", "/dumps/"):
        html = hostile_client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
        assert "<style" not in html and " style=" not in html, path
        # Script elements are data (JSON-LD, the editor's JSON settings), which a policy never
        # executes, or files of this server's /static (search.js, the editor): no inline code.
        for script in re.findall(r"<script[^>]*>", html):
            data = 'type="application/ld+json"' in script or 'type="application/json"' in script
            assert data or 'src="/static/' in script, script


# -- item 22: Host, X-Forwarded-*, SCRIPT_NAME over real HTTP --------------------------------
def raw_get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    lines = [f"GET {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers.items())]
    lines.append("Connection: close")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    found = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), found, body


@pytest.fixture(scope="module")
def proxied(hostile: tuple[Path, str]) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    dist = hostile[0]
    plain = ServerProcess(dist, port=free_port(), workers=1)
    behind = ServerProcess(dist, workers=1, env={"PUBLISHER_TRUSTED_PROXIES": "1"})
    yield plain, behind
    plain.stop()
    behind.stop()


SPOOFED = {"Host": "evil.example", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}


def test_a_spoofed_host_does_not_leak_into_a_redirect(proxied) -> None:
    plain, _ = proxied
    status, headers, _ = raw_get(plain.port, "/dumps//", SPOOFED)
    assert status in (301, 308)
    assert "evil.example" not in headers["location"]
    assert headers["location"].startswith("/") and not headers["location"].startswith("//")


def test_a_script_name_header_is_not_trusted(proxied) -> None:
    plain, _ = proxied
    for name in ("SCRIPT_NAME", "Script-Name", "X-Forwarded-Prefix"):
        status, _, body = raw_get(
            plain.port,
            "/doc/place/khojaly",
            {"Host": "127.0.0.1", "Accept": "text/html", name: "/evil"},
        )
        assert status == 200, (name, status)
        assert b'href="/evil' not in body, name


def test_forwarded_headers_are_used_only_when_configured(proxied) -> None:
    _, behind = proxied
    status, headers, body = raw_get(
        behind.port,
        "/doc/place/khojaly",
        {"Host": "127.0.0.1", "Accept": "text/html", "X-Forwarded-Prefix": "/kg"},
    )
    assert status == 200
    assert b'href="/kg/' in body  # the configured proxy mounts the site under /kg
    status, headers, _ = raw_get(behind.port, "/dumps//", {"Host": "127.0.0.1"})
    assert status in (301, 308) and headers["location"].startswith("/")
