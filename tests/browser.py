"""A real browser for the tests: Debian's chromium, driven through chromedriver by Selenium.

`make test` installs chromium, chromium-driver and java where they are missing and it may
(Makefile: browser-deps) and axe-core + vnu-jar into .node-browser/ (npm ci). Where any of them
is absent the browser tests skip and say which (`missing()`), rather than fail.

Shared by every tests/test_browser_*.py through the fixtures in conftest.py (`browser`,
`browser_without_js`); the helpers here take a driver or a URL:
- `start_chromium(javascript=...)`: headless Chromium with the flags this machine needs (no
  background networking: the sandbox's closed network refuses it) and a fresh profile;
- `axe_violations(driver)`: axe-core run in the page, its violations;
- `nu_check(pages)`: the W3C Nu HTML Checker on served HTML, its errors per page;
- `wait_for(driver, css)`, `console_errors(driver)`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from support import ROOT

BROWSER_NODE = ROOT / ".node-browser" / "node_modules"
AXE_JS = BROWSER_NODE / "axe-core" / "axe.min.js"
VNU_JAR = BROWSER_NODE / "vnu-jar" / "build" / "dist" / "vnu.jar"
# What a test waits for at most: generous (the machine is shared), never a timing assertion.
WAIT_S = 20.0

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # root in a container: Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--window-size=1280,1000",
    "--lang=en-GB",
)


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing(*, axe: bool = False, nu: bool = False) -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    reasons = []
    if chromium_binary() is None:
        reasons.append(
            "chromium is not installed (Debian package chromium; `make test` installs it as root)"
        )
    if shutil.which("chromedriver") is None:
        reasons.append("chromedriver is not installed (Debian package chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        reasons.append("selenium is not installed (pip install -e '.[test]')")
    if axe and not AXE_JS.is_file():
        reasons.append(f"axe-core is not installed at {AXE_JS} (make .node-browser/.installed)")
    if nu and not VNU_JAR.is_file():
        reasons.append(f"vnu-jar is not installed at {VNU_JAR} (make .node-browser/.installed)")
    if nu and shutil.which("java") is None:
        reasons.append("java is not installed (the Nu HTML Checker runs on it)")
    return "; ".join(reasons) or None


class Chromium:
    """A headless Chromium session and its throwaway profile directory."""

    def __init__(self, *, javascript: bool = True) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium_binary() or "chromium"
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile.name}")
        if not javascript:
            options.add_experimental_option(
                "prefs", {"profile.managed_default_content_settings.javascript": 2}
            )
        # The console (CSP violations, failed loads) and the DevTools network events (what was
        # requested, by which method, with which body).
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        # Debian's chromedriver, found on PATH: Selenium Manager would try to download one.
        service = Service(executable_path=shutil.which("chromedriver"))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.set_page_load_timeout(WAIT_S * 2)
        self.driver.set_script_timeout(WAIT_S * 2)

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            self.profile.cleanup()


def wait_for(driver, css: str, *, timeout: float = WAIT_S, visible: bool = True):
    """The first element matching `css` once it is there (and visible), else TimeoutException."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    condition = (
        expected_conditions.visibility_of_element_located
        if visible
        else expected_conditions.presence_of_element_located
    )
    return WebDriverWait(driver, timeout).until(condition((By.CSS_SELECTOR, css)))


def wait_until(driver, predicate, *, timeout: float = WAIT_S, message: str = ""):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: predicate(d), message)


def console_errors(driver) -> list[str]:
    """The page's console errors since the last call (CSP violations and failed loads included)."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        # No page links a favicon; the browser asks for one anyway.
        if entry["level"] == "SEVERE" and "/favicon.ico" not in entry["message"]
    ]


def network_requests(driver) -> list[dict]:
    """The requests the page made since the last call: url, method, postData (DevTools)."""
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            requests.append(message["params"]["request"])
    return requests


def axe_violations(driver, *, impacts: Iterable[str] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of the given impacts on the loaded page, one line each.

    The script is passed to the page through WebDriver (a DevTools evaluation, which the
    pages' Content-Security-Policy does not govern), so no page needs to allow it.
    """
    driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(JSON.stringify(r.violations)), e => done(JSON.stringify({error: String(e)})));"
    )
    violations = json.loads(result)
    if isinstance(violations, dict):
        raise RuntimeError(f"axe-core failed: {violations['error']}")
    wanted = set(impacts)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in violations
        if v.get("impact") in wanted
    ]


def nu_check(pages: dict[str, bytes], *, directory: Path) -> dict[str, list[str]]:
    """The Nu HTML Checker's errors (warnings left out) for each page, one JVM for all of them.

    `pages` maps a name (the path it was served at) to the HTML bytes the server sent.
    """
    files: dict[str, str] = {}
    for index, (name, body) in enumerate(pages.items()):
        path = directory / f"page-{index}.html"
        path.write_bytes(body)
        files[path.resolve().as_uri()] = name
    completed = subprocess.run(
        [
            "java",
            "-Xss4m",  # the checker's schema evaluation overflows smaller stacks
            # A short run: the quick compiler only and one GC thread halve its CPU time.
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-jar",
            str(VNU_JAR),
            "--format",
            "json",
            "--errors-only",
            "--exit-zero-always",
            *(str(directory / f"page-{i}.html") for i in range(len(pages))),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    # The JSON report goes to stderr.
    report = json.loads(completed.stderr or completed.stdout)
    errors: dict[str, list[str]] = {name: [] for name in pages}
    for message in report.get("messages", []):
        if message.get("type") != "error" and message.get("subType") != "fatal":
            continue
        name = files.get(message.get("url", ""), message.get("url", "?"))
        where = f"line {message.get('lastLine', '?')}"
        errors.setdefault(name, []).append(f"{where}: {message.get('message', '').strip()}")
    return errors
