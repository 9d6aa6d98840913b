"""What the pictures, the sources table and the schema.org blocks cost per HTML page render.

    .venv/bin/python bench/pages_render.py [--dist dist] [--repeat 30]

In-process (Flask test client) with the render cache off (resource_cache_entries=0), so every
request describes and renders: the home page and a few resource pages as HTML, and the same
resources as Turtle as the baseline (describe + serialize, no page). Prints the machine, the
median and p90 per request, and the HTML/Turtle ratio. Without --dist, builds the seed into a
temporary directory first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
from machine import describe  # noqa: E402
from support import build_dist, in_process_app  # noqa: E402

PATHS = (
    "/",
    "/doc/event/khojaly-massacre",
    "/doc/place/khojaly",
    "/doc/document/press-release-2023-02-26",
)


def timed(client, path: str, accept: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path, headers={"Accept": accept})
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dist = args.dist or build_dist(Path(tmp) / "dist", base="http://127.0.0.1:8080/")
        client = in_process_app(dist, resource_cache_entries=0).test_client()
        print(f"machine: {describe()}")
        print(f"{'path':45} {'format':7} {'median ms':>10} {'p90 ms':>8}")
        for path in PATHS:
            for name, accept in (("turtle", "text/turtle"), ("html", "text/html")):
                if path == "/" and name == "turtle":
                    continue
                timed(client, path, accept, 3)  # warm: labels, dates, summaries memoized
                times = sorted(timed(client, path, accept, args.repeat))
                median = statistics.median(times) * 1000
                p90 = times[int(len(times) * 0.9) - 1] * 1000
                print(f"{path:45} {name:7} {median:10.1f} {p90:8.1f}")


if __name__ == "__main__":
    main()
