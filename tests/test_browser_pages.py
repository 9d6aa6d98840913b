"""Every page type in a real browser: axe-core finds no serious or critical accessibility
violation, and the W3C Nu HTML Checker finds no error in the HTML the server sends.

axe-core and vnu-jar are the exact versions of tests/clients/browser/package-lock.json,
installed by make into .node-browser/; the checker runs on java (tests/browser.py).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests
from browser import axe_violations, missing, nu_check, wait_for

# One page of each type: (name, path as a person reaches it). /id/ answers 303 to /doc/.
PAGE_TYPES = (
    ("home", "/"),
    ("thing (/id/ -> /doc/)", "/id/event/khojaly-massacre"),
    ("place (/id/ -> /doc/)", "/id/place/khojaly"),
    ("class (/def/)", "/def/Claim"),
    ("ontology (/def/)", "/def/"),
    ("graph", "/graph/curated"),
    ("query page", "/sparql"),
    (
        "query results",
        "/sparql?" + urlencode({"query": 'SELECT ?s ?p WHERE { ?s ?p "Xocalı"@az }'}),
    ),
    ("dataset description", "/dataset"),
    ("dumps", "/dumps/"),
    ("not found (404)", "/id/event/no-such-event"),
)
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(("name", "path"), PAGE_TYPES, ids=[name for name, _ in PAGE_TYPES])
def test_axe_finds_no_serious_or_critical_violation(browser, live_server, name, path) -> None:
    reason = missing(axe=True)
    if reason:
        pytest.skip(reason)
    browser.get(live_server.url + path)
    wait_for(browser, "main")
    if path.startswith("/sparql"):
        # The page as people see it with JavaScript: the editor in place of the form.
        wait_for(browser, "#editor .CodeMirror")
    violations = axe_violations(browser)
    assert violations == [], f"{name} ({path}):\n" + "\n".join(violations)


def test_the_nu_html_checker_finds_no_error_on_any_page_type(live_server, tmp_path: Path) -> None:
    reason = missing(nu=True)
    if reason:
        pytest.skip(reason)
    pages: dict[str, bytes] = {}
    for name, path in PAGE_TYPES:
        response = requests.get(live_server.url + path, headers=HTML, timeout=30)
        expected = 404 if "404" in name else 200
        assert response.status_code == expected, (name, response.status_code)
        assert response.headers["Content-Type"].startswith("text/html"), name
        pages[f"{name} ({path})"] = response.content
    errors = nu_check(pages, directory=tmp_path)
    found = {page: messages for page, messages in errors.items() if messages}
    assert found == {}, "\n".join(
        f"{page}:\n  " + "\n  ".join(messages) for page, messages in found.items()
    )
