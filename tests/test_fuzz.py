"""Property-based fuzzing of every route with hostile input (hypothesis).

Generated Unicode (the data's own Azerbaijani and Russian words among it), invalid UTF-8,
broken percent-escapes, huge and deeply nested input, in paths, query strings, form and
direct bodies and every header; see fuzz_requests.py for what is generated. The property:
no answer is a 5xx (or an exception escaping the app, which production turns into a 500),
and no answer takes longer than its limit.

Most requests go through the in-process app as the WSGI environ gunicorn builds; a smaller
share goes over real sockets to a real `publisher serve`, for bytes a WSGI environ cannot hold.
Failures are collected, not raised at the first one, so one run reports every distinct kind.
The run is reproducible (derandomize=True, no example database) and prints its request count.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from fuzz_requests import (
    Fuzzed,
    Outcome,
    any_request,
    elsewhere,
    send_in_process,
    send_raw,
    sparql_case,
    wire_request,
)
from hypothesis import HealthCheck, Phase, given, settings
from support import ServerProcess, in_process_app

MIN_REQUESTS = 10_000
# Each example: one fuzzed request, the same query string, headers and body on OTHER_ROUTES
# more routes, and one fuzzed SPARQL query sent three ways (GET, form POST, direct POST).
IN_PROCESS_EXAMPLES = 1_300
OTHER_ROUTES = 4
REQUESTS_PER_EXAMPLE = 1 + OTHER_ROUTES + 3
RAW_EXAMPLES = 600
# An order of magnitude above what any of these routes takes on a busy 2-core machine.
ROUTE_LIMIT_S = 5.0
SPARQL_MARGIN_S = 5.0
FUZZ_QUERY_LIMIT_MS = 2_000  # on top of the query time limit (the limit itself answers)

FUZZ_SETTINGS = {
    "deadline": None,
    "derandomize": True,
    "database": None,
    "phases": [Phase.explicit, Phase.generate],  # failures are collected, not shrunk
    "suppress_health_check": list(HealthCheck),
    "print_blob": False,
}

# The issue's own reproductions, sent first (each named by its item in issue 7).
KNOWN_HOSTILE = (
    Fuzzed("GET", "/sparql?query=" + quote('SELECT ?s WHERE { ?s ?p "Xocalı"@az }')),  # 1
    Fuzzed("GET", "/sparql?query=" + quote('SELECT ?s WHERE { ?s ?p "Ходжалы"@ru }')),  # 1
    Fuzzed("GET", "/sparql?query=" + quote("ASK {}") + "&x=%C4%B1"),  # 1
    Fuzzed("GET", "/sparql?query=%FF"),  # 1
    Fuzzed(
        "POST",
        "/sparql",
        (("Content-Type", "application/x-www-form-urlencoded"),),
        b"query=" + quote('ASK { ?s ?p "😀\u00a0" }').encode(),
    ),  # 1
    Fuzzed("GET", "/sparql?query=" + quote("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1") + "&format=n3"),
    Fuzzed("GET", "/doc/place/khojaly", (("Accept", "application/json"),)),  # 5
    Fuzzed("GET", "/sparql?query=" + quote("SELECT (TRIPLE(<a>, <b>, <c>) AS ?x) {}")),  # 8
    Fuzzed(
        "GET",
        "/sparql?format=html&query=" + quote("SELECT (IRI(\"javascript:alert('x')\") AS ?x) {}"),
    ),  # 17
    Fuzzed(
        "POST",
        "/sparql",
        (("Content-Type", "application/sparql-query"),),
        ('ASK { ?s ?p "' + "é" * 19_990 + '" }').encode(),
    ),  # 16
    Fuzzed(
        "POST",
        "/sparql",
        (("Content-Type", "application/sparql-query"),),
        ("SELECT (" + "(" * 9_000 + "1" + ")" * 9_000 + " AS ?x) {}").encode(),
    ),  # 20
    Fuzzed("GET", "/", (("Host", "evil.example"), ("X-Forwarded-Proto", "https"))),  # 22
    Fuzzed("GET", "/dumps//", (("Host", "evil.example"), ("X-Forwarded-Proto", "https"))),  # 22
    Fuzzed("GET", "/dataset", (("Script-Name", "/x"),)),  # 22
    Fuzzed("GET", "/dumps/dataset.nt.gz", (("Range", "bytes=0-1,5-9"),)),  # 24
    Fuzzed("GET", "/doc/place/khojaly", (("If-Match", '"nope"'),)),  # 24
    Fuzzed("GET", "/doc/place/khojaly", (("Accept", "text/html;q=nan"),)),  # 24
    Fuzzed("GET", "/doc/place/khojaly", (("Accept-Language", "az;q=nan, *;q=1e999"),)),
)


def family(path: str) -> str:
    """The route a path belongs to, for the coverage count."""
    for prefix in (
        "/id/",
        "/doc/",
        "/def",
        "/graph/",
        "/dumps/",
        "/shapes",
        "/static/",
        "/dataset",
    ):
        if path.startswith(prefix):
            return prefix
    return path if path in ("/", "/sparql", "/sitemap.xml", "/robots.txt") else "other"


@dataclass
class Tally:
    sent: int = 0
    by_family: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=dict)

    def record(self, request: str, where: str, outcome: Outcome, limit_s: float) -> None:
        self.sent += 1
        self.by_family[where] += 1
        self.statuses[outcome.status] += 1
        problem = ""
        if outcome.error:
            problem = outcome.error.split(":", 1)[0]
        elif outcome.status is not None and outcome.status >= 500:
            problem = f"status {outcome.status}"
        elif outcome.seconds > limit_s:
            problem = f"slower than {limit_s:.0f} s"
        if problem:
            key = f"{where}: {problem}"
            examples = self.failures.setdefault(key, [])
            if len(examples) < 3:
                examples.append(
                    f"{request} -> {outcome.status} in {outcome.seconds:.2f} s {outcome.error}"
                )

    def report(self) -> str:
        lines = [f"{len(self.failures)} distinct failures in {self.sent} requests:"]
        for key, examples in sorted(self.failures.items()):
            lines.append(f"  {key}")
            lines.extend(f"      {example}" for example in examples)
        return "\n".join(lines)


def limit_for(app, path: str) -> float:
    if path.startswith("/sparql"):
        return app.extensions["publisher"].settings.sparql_time_limit_ms / 1000 + SPARQL_MARGIN_S
    return ROUTE_LIMIT_S


@pytest.fixture(scope="module")
def tally() -> Tally:
    return Tally()


@pytest.fixture(scope="module")
def fuzz_app(seed_dist):
    """The seed dataset's app with a short query time limit: a generated runaway query (a
    failure either way) then costs 2 s of the run, not 10."""
    return in_process_app(seed_dist, sparql_time_limit_ms=FUZZ_QUERY_LIMIT_MS)


def test_fuzz_in_process(fuzz_app, tally: Tally) -> None:
    app = fuzz_app

    def send(request: Fuzzed) -> None:
        outcome = send_in_process(app, request)
        tally.record(request.short(), family(request.path), outcome, limit_for(app, request.path))

    for request in KNOWN_HOSTILE:
        send(request)

    examples = 0

    @settings(max_examples=IN_PROCESS_EXAMPLES, **FUZZ_SETTINGS)
    @given(any_request(), sparql_case())
    def run(request: Fuzzed, sparql: tuple[Fuzzed, ...]) -> None:
        nonlocal examples
        examples += 1
        batch = [request, *elsewhere(request, OTHER_ROUTES, examples * OTHER_ROUTES), *sparql]
        assert len(batch) == REQUESTS_PER_EXAMPLE
        for each in batch:
            send(each)

    started = time.monotonic()
    run()
    print(
        f"\nfuzz in-process: {tally.sent} requests in {time.monotonic() - started:.1f} s; "
        f"statuses {dict(sorted(tally.statuses.items(), key=str))}; by route {dict(tally.by_family)}"
    )
    assert not tally.failures, tally.report()
    assert tally.sent >= MIN_REQUESTS
    # every route got its share
    for where in (
        "/id/",
        "/doc/",
        "/def",
        "/graph/",
        "/dumps/",
        "/shapes",
        "/dataset",
        "/",
        "/sparql",
    ):
        # Each route family gets a fair share (at least half a percent of 10,000 generated
        # requests; the share shrinks as routes are added: /search, /reconcile, /fragments).
        assert tally.by_family[where] >= 50, f"{where} got {tally.by_family[where]} requests"


def test_fuzz_raw_http(live_server: ServerProcess) -> None:
    """Invalid bytes in the request line and headers, broken framing, over a real socket."""
    raw = Tally()

    @settings(max_examples=RAW_EXAMPLES, **FUZZ_SETTINGS)
    @given(wire_request())
    def run(payload: bytes) -> None:
        outcome = send_raw(live_server.port, payload, timeout_s=ROUTE_LIMIT_S * 3)
        raw.record(repr(payload[:160]), "raw", outcome, ROUTE_LIMIT_S)

    started = time.monotonic()
    run()
    print(
        f"\nfuzz raw HTTP: {raw.sent} requests in {time.monotonic() - started:.1f} s; "
        f"statuses {dict(sorted(raw.statuses.items(), key=str))}"
    )
    assert not raw.failures, raw.report()
    # and the server still answers normally afterwards
    assert (
        send_raw(live_server.port, b"GET /robots.txt HTTP/1.0\r\n\r\n", timeout_s=10).status == 200
    )
