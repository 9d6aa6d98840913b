"""Screenshots of the HTML pages by headless Chromium, to look at what people see.

    .venv/bin/python bench/screenshots.py [--dist dist] [--path /doc/event/x ...]

Starts `publisher serve` on a free 127.0.0.1 port (stopped by its pid at the end), picks a
resource page (the first example resource of /dataset unless --path is given) and writes
bench/out/{home,resource,ontology,...}.png. Chromium: `apt-get install -y chromium`.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
from support import ServerProcess  # noqa: E402

OUT = ROOT / "bench" / "out"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("no Chromium found: apt-get update && apt-get install -y chromium")


def example_resource(url: str) -> str:
    """The first void:exampleResource of the dataset description (read as N-Triples)."""
    with urllib.request.urlopen(url + "/dataset.nt", timeout=10) as response:
        lines = response.read().decode("utf-8").splitlines()
    for line in sorted(lines):
        if "<http://rdfs.org/ns/void#exampleResource>" in line:
            iri = line.split("> <")[2].split(">")[0]
            return "/doc/" + iri.split("/id/", 1)[1] + ".html"
    return "/def/"


def screenshot(browser: str, url: str, out: Path, *, width: int, height: int, lang: str) -> None:
    with tempfile.TemporaryDirectory() as profile:
        command = [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--lang={lang}",
            f"--screenshot={out}",
            f"--window-size={width},{height}",
            url,
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    print(f"{out.relative_to(ROOT)}  <- {url}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--path", action="append", default=[], help="extra page paths")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2000)
    parser.add_argument("--lang", default="en-US", help="browser language (Accept-Language)")
    options = parser.parse_args()

    browser = chromium()
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = ServerProcess(
        options.dist.resolve(), port=port, workers=1, log_dir=Path(tempfile.gettempdir())
    )
    try:
        url = f"http://127.0.0.1:{port}"
        pages = {
            "home": "/",
            "resource": example_resource(url),
            "ontology": "/def/",
            "not-found": "/doc/nothing/here",
        }
        for index, path in enumerate(options.path):
            pages[f"extra-{index}"] = path
        for name, path in pages.items():
            screenshot(
                browser,
                url + path,
                OUT / f"{name}.png",
                width=options.width,
                height=options.height,
                lang=options.lang,
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
