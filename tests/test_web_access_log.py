"""web/access_log: `publisher serve` writes one line per request, in granian's format, within
about a second; the buffer loses no line when many threads write at once."""

from __future__ import annotations

import io
import re
import threading
import time
from pathlib import Path
from urllib.parse import quote, unquote

import requests
from support import ServerProcess

from publisher.web.access_log import MAX_BUFFERED, AccessLog

LINE = re.compile(
    r'^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] 127\.0\.0\.1 - "(GET|POST) (\S+) HTTP/1\.1" '
    r"(\d{3}) \d+\.\d{3}$"
)


def test_each_request_is_one_line_in_granians_format(sample_dist: Path, tmp_path: Path) -> None:
    server = ServerProcess(
        sample_dist, workers=1, env={"PUBLISHER_CACHE_DIR": str(tmp_path)}, log_dir=tmp_path
    )
    try:
        asked = {
            "/doc/place/khojaly.ttl": 200,
            "/doc/place/" + quote("xocalı-nowhere"): 404,
            "/sparql?" + "query=" + quote('ASK { ?s ?p "Ходжалы"@ru }'): 200,
            "/sparql?query=SELECT%ZZ": 400,
        }
        for target, status in asked.items():
            assert requests.get(server.url + target, timeout=30).status_code == status
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            lines = [m for m in map(LINE.match, server.output().splitlines()) if m]
            if sum(m.group(2) != "/robots.txt" for m in lines) >= len(asked):
                break
            time.sleep(0.2)
        logged = [(m.group(2), int(m.group(3))) for m in lines if m.group(2) != "/robots.txt"]
        # The path as the WSGI server gives it (PEP 3333: the bytes as latin-1, as granian's
        # own log showed it), without the query string.
        expected = [(unquote(t.split("?")[0], encoding="latin-1"), s) for t, s in asked.items()]
        assert logged == expected
    finally:
        server.stop()


def test_no_line_is_lost_when_threads_write_at_once() -> None:
    stream = io.StringIO()
    log = AccessLog(stream)
    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1"}

    def write(thread: int) -> None:
        for number in range(MAX_BUFFERED):
            path = f"/doc/place/{thread}-{number}-Xocalı"
            log.add({**environ, "PATH_INFO": path}, 200, time.time(), 0.0001)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.flush()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 8 * MAX_BUFFERED
    assert len(set(lines)) == len(lines)
    assert all(LINE.match(line) for line in lines)
