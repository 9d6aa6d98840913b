"""The query page's editor (YASGUI + publisher/static/editor.js) in a real browser.

Headless Chromium (tests/browser.py, fixtures in conftest.py) against `publisher serve` on the
seed dataset: the editor loads from this server only, highlights, completes the dataset's
prefixes, runs a non-ASCII query typed into it by POST, links results into the site, draws
a chart; without JavaScript the plain form still queries.
"""

from __future__ import annotations

from urllib.parse import unquote_plus, urlsplit

import pytest
from browser import console_errors, network_requests, wait_for, wait_until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

# Matches the seed data: the town's Azerbaijani label (data/curated.trig).
XOCALI_QUERY = 'SELECT ?s WHERE { ?s ?p "Xocalı"@az }'


def open_editor(driver, server) -> None:
    driver.get(server.url + "/sparql")
    wait_for(driver, "#editor .CodeMirror")
    wait_until(driver, lambda d: d.execute_script("return !!window.publisherEditor"))


def type_query(driver, text: str) -> None:
    """Empty the editor, then type `text` into it key by key, as a person would."""
    driver.execute_script("window.publisherEditor.getTab().setQuery('')")
    driver.find_element(By.CSS_SELECTOR, "#editor .CodeMirror").click()
    driver.switch_to.active_element.send_keys(text)


def editor_text(driver) -> str:
    return driver.execute_script("return window.publisherEditor.getTab().getQuery()")


def result_links(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#editor .yasr_results a'))"
        ".map(a => a.getAttribute('href'))"
    )


def test_the_editor_loads_highlighted_from_this_server_only(browser, live_server) -> None:
    console_errors(browser)  # drop what earlier pages logged
    network_requests(browser)
    open_editor(browser, live_server)
    # YASGUI replaced the plain form; CodeMirror tokenised the default query.
    assert browser.find_element(By.ID, "query-form").is_displayed() is False
    keywords = browser.find_elements(By.CSS_SELECTOR, "#editor .CodeMirror .cm-keyword")
    assert {k.text.upper() for k in keywords} >= {"PREFIX", "SELECT", "WHERE"}
    assert browser.find_elements(
        By.CSS_SELECTOR, "#editor .CodeMirror .cm-variable-3, #editor .CodeMirror .cm-atom"
    )
    # Offline: every request of the page went to this server (no CDN, no font, no prefix.cc).
    origins = {
        f"{urlsplit(r['url']).scheme}://{urlsplit(r['url']).netloc}"
        for r in network_requests(browser)
        if not r["url"].startswith("data:")
    }
    assert origins == {live_server.url}
    # Typing a class and a property asks no vocabulary service (YASGUI's LOV completers are off).
    # Then the query runs (by then any completion request would have been sent): the only
    # request is the query to this server.
    type_query(browser, "PREFIX schema: <https://schema.org/>\nSELECT ?s WHERE { ?s a schema:Eve")
    browser.switch_to.active_element.send_keys("nt . OPTIONAL { ?s schema:na")
    browser.switch_to.active_element.send_keys("me ?n } }", Keys.CONTROL, Keys.ENTER)
    wait_until(browser, lambda d: "/id/event/khojaly-massacre" in result_links(d))
    sent = [(r["method"], r["url"]) for r in network_requests(browser)]
    assert sent == [("POST", live_server.url + "/sparql")]
    # Nothing refused by the page's Content-Security-Policy, no script error.
    assert console_errors(browser) == []


def test_a_non_ascii_query_typed_runs_by_post_and_a_result_link_is_followed(
    browser, live_server
) -> None:
    open_editor(browser, live_server)
    network_requests(browser)
    type_query(browser, XOCALI_QUERY)
    assert editor_text(browser) == XOCALI_QUERY
    browser.switch_to.active_element.send_keys(Keys.CONTROL, Keys.ENTER)
    wait_until(browser, lambda d: "/id/place/khojaly" in result_links(d), message="no result")

    posts = [r for r in network_requests(browser) if r["method"] == "POST"]
    assert len(posts) == 1, posts
    assert posts[0]["url"] == live_server.url + "/sparql"
    body = posts[0].get("postData", "")
    assert f"query={XOCALI_QUERY}" in [unquote_plus(part) for part in body.split("&")]
    assert "Xocal%C4%B1" in body  # UTF-8 in the form encoding, as the Protocol reads it

    # A local IRI links to this site's page (a path), in this tab; following it lands on the
    # place's description (the /id/ IRI answers a browser 303 to /doc/...html).
    link = browser.find_element(
        By.CSS_SELECTOR, '#editor .yasr_results a[href="/id/place/khojaly"]'
    )
    assert link.get_attribute("target") in (None, "")
    link.click()
    wait_until(browser, lambda d: urlsplit(d.current_url).path == "/doc/place/khojaly.html")
    assert "Xocalı" in browser.find_element(By.TAG_NAME, "main").text


def test_only_http_iris_in_results_are_links(browser, live_server) -> None:
    open_editor(browser, live_server)
    type_query(
        browser, "SELECT ?x WHERE { VALUES ?x { <javascript:alert(1)> <https://example.org/a> } }"
    )
    browser.switch_to.active_element.send_keys(Keys.CONTROL, Keys.ENTER)
    wait_until(browser, lambda d: "https://example.org/a" in result_links(d))
    links = [href for href in result_links(browser) if href]
    assert links == ["https://example.org/a"]
    assert (
        "javascript:alert(1)" in browser.find_element(By.CSS_SELECTOR, "#editor .yasr_results").text
    )


def test_an_example_loads_into_the_editor_and_the_chart_view_draws_it(browser, live_server) -> None:
    open_editor(browser, live_server)
    # The "classes" example: ?class (IRIs) with ?things (a count): a label/number result.
    browser.find_element(By.CSS_SELECTOR, 'a[data-example="classes"]').click()
    assert urlsplit(browser.current_url).query == ""  # ran in the editor, no page load
    wait_for(browser, "#editor .yasr_results table tbody tr")
    assert "GROUP BY ?class" in editor_text(browser)
    rows = browser.execute_script(
        "return window.publisherEditor.getTab().getYasr().results.getBindings().length"
    )
    browser.find_element(By.CSS_SELECTOR, "#editor .select_chart").click()
    wait_for(browser, "#editor figure.bar-chart svg")
    bars = browser.find_elements(By.CSS_SELECTOR, "#editor figure.bar-chart svg rect")
    assert len(bars) == rows > 1
    widths = [float(bar.get_attribute("width")) for bar in bars]
    assert widths == sorted(widths, reverse=True)  # ORDER BY DESC(?things)
    # Each class bar links to its page: the project's own classes stay on this site.
    hrefs = browser.execute_script(
        "return Array.from(document.querySelectorAll('#editor figure.bar-chart svg a'))"
        ".map(a => a.getAttribute('href'))"
    )
    assert any(h.startswith("/def/") for h in hrefs), hrefs
    caption = browser.find_element(By.CSS_SELECTOR, "#editor figure.bar-chart figcaption").text
    assert caption == "?things by ?class"


def test_prefix_completion_offers_the_dataset_prefixes(browser, live_server, seed_base) -> None:
    open_editor(browser, live_server)
    type_query(browser, "PREFIX kg")
    hint = wait_for(browser, ".CodeMirror-hints .CodeMirror-hint")
    assert hint.text == f"kg: <{seed_base}def/>"
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    assert editor_text(browser).strip() == f"PREFIX kg: <{seed_base}def/>"
    # A dataset-only prefix (not in YASGUI's bundled list) is offered too.
    type_query(browser, "PREFIX grap")
    hints = wait_for(browser, ".CodeMirror-hints").text.splitlines()
    assert f"graph: <{seed_base}graph/>" in hints


def test_without_javascript_the_plain_form_queries(browser_without_js, live_server) -> None:
    driver = browser_without_js
    driver.get(live_server.url + "/sparql")
    assert not driver.find_element(By.ID, "editor").is_displayed()
    textarea = driver.find_element(By.ID, "query")
    assert textarea.is_displayed()
    textarea.clear()
    textarea.send_keys(XOCALI_QUERY)
    driver.find_element(By.CSS_SELECTOR, "#query-form button[type=submit]").click()
    table = wait_for(driver, ".sparql-results table")
    assert driver.find_element(By.ID, "query").get_attribute("value") == XOCALI_QUERY
    hrefs = [a.get_attribute("href") for a in table.find_elements(By.TAG_NAME, "a")]
    assert live_server.url + "/id/place/khojaly" in hrefs


@pytest.fixture(autouse=True)
def _no_script_errors(request, browser):
    """After each editor test: no script error and no CSP refusal in the console."""
    yield
    if "browser_without_js" not in request.fixturenames:
        assert console_errors(browser) == []
