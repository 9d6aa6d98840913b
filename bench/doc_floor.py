"""What a /doc/ replay costs against what granian and nginx cost for the same bytes (issue 10).

    .venv/bin/python bench/doc_floor.py [--triples 5000] [--docs 300] [--seconds 3] [--rounds 3]

A /doc/ Turtle answer is a few hundred bytes and a dozen headers; the publisher replays it
from memory (web/fast_path.py). How far is that from the floor? Side by side, one process
each, on the same Turtle files (the publisher's own answers, written by a first pass), wrk
with 4 connections and a random resource per request (the same Lua script for every server),
the servers measured in turns, `--rounds` times (median):

- `publisher`: `publisher serve --workers 1`, the replay path;
- `publisher-1thread`: the same with the setting `threads` = 1 (one thread runs every
  request: no GIL handed between threads, but one slow query holds up the process);
- `wsgi-bytes`: granian WSGI (the options `serve` uses), a Python function that looks the
  answer up in a dict and returns it with the publisher's headers: granian's own WSGI floor;
- `wsgi-1thread`: the same with one blocking thread (granian's floor without GIL handoffs);
- `rsgi-bytes`: the same under granian's RSGI interface (`response_bytes`);
- `rsgi-file`: RSGI `response_file` (granian reads the file itself);
- `granian-static`: granian's static route (`--static-path-mount`): Rust only, but it sends
  only Content-Type and Cache-Control (no ETag, Vary, Link, CORS; no 304), so it cannot
  give the app's answers; measured anyway;
- `nginx` (if installed): sendfile.

Printed: req/s (moves with the neighbours' load), CPU per request of the server's processes
and of wrk (much steadier on a shared machine), and the ratio to nginx that the CPU figures
predict when the cores are the bound: (nginx + wrk) / (server + wrk).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from machine import describe  # noqa: E402
from support import stop_process_group  # noqa: E402
from web_cpu import usage  # noqa: E402
from web_speed import (  # noqa: E402
    NGINX_CONF,
    build_toy_dist,
    free_port,
    random_path_script,
    wait_up,
    wrk,
)

# The stand-in apps: the publisher's answers (body and headers) looked up by path.
APPS = """
import json, os
ANSWERS = {}
for line in open(os.environ["DOC_FLOOR_ANSWERS"], encoding="utf-8"):
    path, headers, body_file = json.loads(line)
    ANSWERS[path] = ([tuple(h) for h in headers], open(body_file, "rb").read(), body_file)

def wsgi(environ, start_response):
    headers, body, _ = ANSWERS[environ["PATH_INFO"]]
    start_response("200 OK", list(headers))
    return [body]

async def rsgi(scope, proto):
    headers, body, _ = ANSWERS[scope.path]
    proto.response_bytes(200, headers, body)

async def rsgi_file(scope, proto):
    headers, _, body_file = ANSWERS[scope.path]
    proto.response_file(200, [h for h in headers if h[0].lower() != "content-length"], body_file)
"""

GRANIAN = ["--workers", "1", "--http", "1", "--no-ws", "--no-access-log"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=5000)
    parser.add_argument("--docs", type=int, default=300, help="resources asked at random")
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    print("date:", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    print("machine:", describe())
    work = Path(tempfile.mkdtemp(prefix="doc-floor-"))
    servers: dict[str, tuple[subprocess.Popen, int]] = {}
    try:
        build_toy_dist(work, triples=options.triples)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
        env["PUBLISHER_CACHE_DIR"] = str(work / "cache")

        def start(
            name: str, command: list[str], cwd: Path = ROOT, settings: dict | None = None
        ) -> None:
            port = free_port()
            with (work / f"{name}.log").open("wb") as log:
                process = subprocess.Popen(
                    [part.replace("{port}", str(port)) for part in command],
                    cwd=cwd, env={**env, **(settings or {})}, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            servers[name] = (process, port)

        serve = [sys.executable, "-m", "publisher", "serve", "--dist", str(work / "dist"),
                 "--host", "127.0.0.1", "--port", "{port}", "--workers", "1"]  # fmt: skip
        start("publisher", serve)
        start("publisher-1thread", serve, settings={"PUBLISHER_THREADS": "1"})
        wait_up(f"http://127.0.0.1:{servers['publisher'][1]}/robots.txt")
        wait_up(f"http://127.0.0.1:{servers['publisher-1thread'][1]}/robots.txt")
        # The publisher's answers, as files for the others (the same bytes and headers).
        static = work / "static"
        answers = work / "answers.jsonl"
        connection = http.client.HTTPConnection("127.0.0.1", servers["publisher"][1])
        with answers.open("w", encoding="utf-8") as out:
            for number in range(options.docs):
                path = f"/doc/entity/{number}.ttl"
                connection.request("GET", path, headers={"Accept": "text/turtle"})
                response = connection.getresponse()
                body = response.read()
                target = static / path.lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
                out.write(json.dumps([path, response.getheaders(), str(target)]) + "\n")
        (work / "doc_floor_apps.py").write_text(APPS, encoding="utf-8")
        env["DOC_FLOOR_ANSWERS"] = str(answers)
        granian = [sys.executable, "-m", "granian", "--host", "127.0.0.1", "--port", "{port}"]
        start("wsgi-bytes", [*granian, "--interface", "wsgi", *GRANIAN, "--blocking-threads",
                             "16", "doc_floor_apps:wsgi"], cwd=work)  # fmt: skip
        start("wsgi-1thread", [*granian, "--interface", "wsgi", *GRANIAN, "--blocking-threads",
                               "1", "doc_floor_apps:wsgi"], cwd=work)  # fmt: skip
        start("rsgi-bytes", [*granian, "--interface", "rsgi", *GRANIAN,
                             "doc_floor_apps:rsgi"], cwd=work)  # fmt: skip
        start("rsgi-file", [*granian, "--interface", "rsgi", *GRANIAN,
                            "doc_floor_apps:rsgi_file"], cwd=work)  # fmt: skip
        start("granian-static", [*granian, "--interface", "rsgi", *GRANIAN,
                                 "--static-path-route", "/doc", "--static-path-mount",
                                 str(static / "doc"), "doc_floor_apps:rsgi"], cwd=work)  # fmt: skip
        if shutil.which("nginx"):
            conf = work / "nginx.conf"
            user = "user root;" if os.geteuid() == 0 else ""
            port = free_port()
            conf.write_text(NGINX_CONF.format(user=user, work=work, port=port, root=static))
            with (work / "nginx.log").open("wb") as log:
                process = subprocess.Popen(
                    ["nginx", "-c", str(conf), "-g", "daemon off;"],
                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            servers["nginx"] = (process, port)
        else:
            print("nginx: not installed (apt-get install nginx-light): baseline skipped")
        for _, port in servers.values():
            wait_up(f"http://127.0.0.1:{port}/doc/entity/0.ttl")

        script = random_path_script("/doc/entity/", ".ttl", options.docs)
        figures: dict[str, list[tuple[float, float, float]]] = {}
        for _, port in servers.values():  # warm: the replays, the page cache
            wrk(f"http://127.0.0.1:{port}/doc/entity/0.ttl", seconds=2, clients=4,
                accept="text/turtle", script=script)  # fmt: skip
        for _ in range(options.rounds):
            for name, (process, port) in servers.items():
                before, clients_before = usage(process.pid), os.times()
                result = wrk(f"http://127.0.0.1:{port}/doc/entity/0.ttl",
                             seconds=options.seconds, clients=4, accept="text/turtle",
                             script=script)  # fmt: skip
                after, clients_after = usage(process.pid), os.times()
                done = max(result["rps"] * options.seconds, 1)
                server = (sum(after.values()) - sum(before.values())) / done * 1e6
                client = (
                    clients_after.children_user + clients_after.children_system
                    - clients_before.children_user - clients_before.children_system
                ) / done * 1e6  # fmt: skip
                if result["non_2xx"]:
                    print(f"  {name}: {result['non_2xx']} answers not 2xx/3xx")
                figures.setdefault(name, []).append((result["rps"], server, client))
        medians = {
            name: tuple(statistics.median(column) for column in zip(*rows, strict=True))
            for name, rows in figures.items()
        }
        print(f"\n/doc/ Turtle, {options.docs} resources at random, wrk 4 connections, "
              f"{options.seconds:.0f} s x {options.rounds} rounds (median)\n")  # fmt: skip
        print(f"{'server':15} {'req/s':>8} {'server µs/req':>14} {'wrk µs/req':>11} "
              f"{'predicted vs nginx':>19}")  # fmt: skip
        nginx = medians.get("nginx")
        for name, (rps, server, client) in medians.items():
            predicted = f"{(nginx[1] + nginx[2]) / (server + client):.2f}x" if nginx else "-"
            print(f"{name:15} {rps:8.0f} {server:14.1f} {client:11.1f} {predicted:>19}")
    finally:
        for process, _ in servers.values():
            stop_process_group(process)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
