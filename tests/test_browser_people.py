"""What a person does on the site, in a real browser (tests/browser.py, conftest fixtures):
finds "Xocalı" by typing "xocali" into the search box, picks a suggestion with the keyboard,
and follows a mark of the timeline to the thing it stands for. The page with the suggestion
list open has no serious or critical accessibility violation (axe-core)."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from browser import axe_violations, missing, wait_for, wait_until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def suggestions(driver) -> list[tuple[str, str]]:
    """(text, href) of each option the completion list shows."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#search-suggestions [role=option]'))"
        ".map(a => [a.textContent, a.getAttribute('href')])"
    )


def type_search(driver, server, text: str, *, page: str = "/") -> None:
    driver.get(server.url + page)
    box = wait_for(driver, "#search-box")
    box.clear()
    box.send_keys(text)
    wait_for(driver, "#search-suggestions [role=option]")


@pytest.mark.parametrize(
    ("typed", "shown", "page"),
    [
        ("xocali", "Xocalı", "/"),
        ("ходжалы", "Ходжалы", "/doc/event/khojaly-massacre"),
        ("KHOJALY", "Khojaly", "/sparql"),
    ],
    ids=["az-without-accents", "ru-lower-case", "en-upper-case"],
)
def test_search_completion_finds_every_language(browser, live_server, typed, shown, page) -> None:
    type_search(browser, live_server, typed, page=page)
    options = suggestions(browser)
    assert options, "no suggestion shown"
    assert shown in options[0][0], options
    box = browser.find_element(By.ID, "search-box")
    assert box.get_attribute("aria-expanded") == "true"


def test_the_open_suggestion_list_has_no_serious_accessibility_violation(
    browser, live_server
) -> None:
    reason = missing(axe=True)  # `make test` installs it; a bare pytest may not have it
    if reason:
        pytest.skip(reason)
    type_search(browser, live_server, "xocali")
    assert not axe_violations(browser), "with the suggestion list open"


def test_a_suggestion_chosen_with_the_keyboard_opens_its_page(browser, live_server) -> None:
    type_search(browser, live_server, "xocali")
    first_href = suggestions(browser)[0][1]
    box = browser.find_element(By.ID, "search-box")
    box.send_keys(Keys.ARROW_DOWN)
    assert box.get_attribute("aria-activedescendant") == "search-option-0"
    box.send_keys(Keys.ENTER)
    wait_until(browser, lambda d: "/doc/place/khojaly" in d.current_url, message=first_href)
    assert "Xocalı" in browser.find_element(By.TAG_NAME, "body").text


def test_escape_closes_the_list_and_the_form_still_searches(browser, live_server) -> None:
    type_search(browser, live_server, "Ходж")
    box = browser.find_element(By.ID, "search-box")
    box.send_keys(Keys.ESCAPE)
    wait_until(browser, lambda d: box.get_attribute("aria-expanded") == "false")
    box.send_keys(Keys.ENTER)  # nothing highlighted: the form submits to the results page
    wait_until(browser, lambda d: "/search?" in d.current_url)
    assert "Ходжалы" in browser.find_element(By.TAG_NAME, "main").text


@pytest.mark.parametrize("page", ["/", "/doc/event/khojaly-massacre"])
def test_a_timeline_mark_is_followed_to_its_resource(browser, live_server, page) -> None:
    browser.get(live_server.url + page)
    marks = browser.find_elements(By.CSS_SELECTOR, "svg a.timeline-mark")
    assert marks, f"no timeline on {page}"
    mark = marks[-1]
    target = urlsplit(urljoin(browser.current_url, mark.get_dom_attribute("href"))).path
    assert target.startswith(("/id/", "/doc/")), target
    label = mark.find_element(By.CSS_SELECTOR, "text")  # what a person clicks: the mark's label
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
    label.click()
    # An /id/ IRI answers 303 with its /doc/ page; the browser shows where it landed.
    landed = target.replace("/id/", "/doc/", 1)
    wait_until(
        browser,
        lambda d: urlsplit(d.current_url).path.removesuffix(".html") == landed,
        message=f"{target} was not reached from {page}",
    )
    assert browser.find_element(By.TAG_NAME, "h1").text, "the resource page has no heading"
