"""Screenshots of what a person does: the home page, the event's page (timeline, neighbourhood,
sources side by side), search completion for "xocali", the query editor with results.

    .venv/bin/python bench/screenshots_people.py [--out bench/out]

Builds the seed, starts `publisher serve` on a free 127.0.0.1 port and drives headless Chromium
through Selenium (tests/browser.py); both are stopped at the end. Writes people-*.png.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
from browser import Chromium, missing, wait_for  # noqa: E402
from support import ServerProcess, build_dist, free_port  # noqa: E402

EVENT = "/doc/event/khojaly-massacre"


def shoot(driver, path: Path, *, height: int) -> None:
    driver.set_window_size(1280, height)
    driver.save_screenshot(str(path))
    print(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    options = parser.parse_args()
    if reason := missing():
        sys.exit(f"no browser: {reason}")
    options.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    dist = build_dist(Path(tempfile.mkdtemp()) / "dist", base=f"http://127.0.0.1:{port}/")
    server = ServerProcess(dist, port=port, log_dir=Path(tempfile.gettempdir()))
    chromium = Chromium()
    driver = chromium.driver
    try:
        driver.get(server.url + "/")
        shoot(driver, options.out / "people-home.png", height=2400)
        driver.get(server.url + EVENT)
        shoot(driver, options.out / "people-event.png", height=4200)
        driver.get(server.url + "/")
        box = wait_for(driver, "#search-box")
        box.send_keys("xocali")
        wait_for(driver, "#search-suggestions [role=option]")
        shoot(driver, options.out / "people-search-xocali.png", height=700)
        driver.get(server.url + "/sparql")
        wait_for(driver, "#editor .CodeMirror")
        driver.execute_script(
            "window.publisherEditor.getTab().setQuery("
            "'SELECT ?thing ?label WHERE { ?thing <http://www.w3.org/2000/01/rdf-schema#label> ?label "
            'FILTER(lang(?label) = "az") } LIMIT 20\'); window.publisherEditor.getTab().query()'
        )
        wait_for(driver, "#editor .yasr_results a")
        shoot(driver, options.out / "people-editor.png", height=1400)
    finally:
        chromium.quit()
        server.stop()


if __name__ == "__main__":
    main()
