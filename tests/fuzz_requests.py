"""Hostile HTTP requests for tests/test_fuzz.py: hypothesis strategies, and two ways to send them.

A request is a `Fuzzed` value: method, raw request target (path and query string exactly as
on the wire, percent-escapes and all), headers (latin-1 text, as WSGI carries them) and a
body. `send_in_process` hands it to the Flask app as the WSGI environ gunicorn would build
(PATH_INFO percent-decoded to bytes then latin-1, RAW_URI as sent); `send_raw` writes bytes to
a real server over a socket, for what no WSGI environ can hold (invalid header bytes, broken
framing).
"""

from __future__ import annotations

import contextlib
import io
import socket
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_to_bytes

from hypothesis import strategies as st
from werkzeug.test import run_wsgi_app


@dataclass(frozen=True)
class Fuzzed:
    method: str
    target: str  # raw request target: path plus optional '?query', as sent
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def short(self, limit: int = 160) -> str:
        text = (
            f"{self.method} {self.target!r} headers={dict(self.headers)!r} body={self.body[:80]!r}"
        )
        return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class Outcome:
    status: int | None  # None: no HTTP answer (connection closed)
    seconds: float
    error: str = ""  # an exception raised instead of an answer
    extra: dict = field(default_factory=dict)


# -- the routes ------------------------------------------------------------------------------
# Real names from the seed data, so fuzzed suffixes and headers reach the deep code paths.
RESOURCES = (
    "/id/place/khojaly",
    "/id/event/khojaly-massacre",
    "/doc/place/khojaly",
    "/doc/event/khojaly-massacre",
    "/graph/curated",
    "/graph/press-release-2023-02-26",
    "/def/",
    "/def/Count",
    "/dataset",
    "/shapes",
)
FIXED_ROUTES = (
    "/",
    "/.well-known/void",
    "/sparql",
    "/dumps/",
    "/dumps/dataset.ttl.gz",
    "/dumps/dataset.nt.gz",
    "/dumps/dataset.ttl",
    "/dumps/SHA256SUMS",
    "/dumps/void.ttl",
    "/sitemap.xml",
    "/robots.txt",
    "/context.jsonld",
    "/static/style.css",
    "/search",
    "/reconcile",
    "/reconcile/suggest/entity",
    "/reconcile/preview",
    "/fragments",
)
PREFIXES = ("/id/", "/doc/", "/def/", "/graph/", "/dumps/", "/shapes/", "/static/", "/")
EXTENSIONS = ("", ".ttl", ".jsonld", ".nt", ".rdf", ".nq", ".trig", ".html", ".TTL", ".xyz", ".")
METHODS = ("GET", "GET", "GET", "HEAD", "POST", "POST", "OPTIONS", "PUT", "DELETE", "PATCH")

# The data's own words, and characters that break naive code.
WORDS = ("Xocalı", "Ходжалы", "Xocalı faciəsi", "khojaly", "😀", "\u00a0", "é", "İ", "ı", "\u200b")
NASTY = ("..", "%2e%2e", "%2F", "%00", "%", "%zz", "%FF", "%C4", "%C4%B1", "%E2%80%AE", "//", "\\")


def _percent(data: bytes) -> str:
    return "".join(f"%{byte:02X}" for byte in data)


text_any = st.text(max_size=40)
text_words = st.sampled_from(WORDS)
raw_bytes = st.binary(max_size=24)
# Bytes that are not UTF-8: lone continuation bytes, truncated sequences, overlongs, surrogates.
invalid_utf8 = st.sampled_from(
    [b"\xff", b"\xc4", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"]
)


@st.composite
def segment(draw) -> str:
    """One path segment as it appears on the wire."""
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return quote(draw(text_any), safe="")
    if kind == 1:
        return quote(draw(text_words), safe="")
    if kind == 2:
        return _percent(draw(raw_bytes))
    if kind == 3:
        return _percent(draw(invalid_utf8))
    if kind == 4:
        return draw(st.sampled_from(NASTY))
    if kind == 5:  # huge
        return draw(
            st.sampled_from(
                (
                    "a",
                    "%C4%B1",
                    "x/",
                    "%2e%2e/",
                )
            )
        ) * draw(st.integers(500, 6000))
    if kind == 6:  # raw non-ASCII as some clients send it (gunicorn passes it through)
        return draw(text_words)
    return draw(st.text(alphabet="abcxyz019-", min_size=1, max_size=20))


@st.composite
def path(draw) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.sampled_from(FIXED_ROUTES))
    if kind == 1:
        return draw(st.sampled_from(RESOURCES)) + draw(st.sampled_from(EXTENSIONS))
    segments = draw(st.lists(segment(), min_size=1, max_size=4))
    tail = "/".join(segments)
    if kind == 2:
        return draw(st.sampled_from(PREFIXES)) + tail + draw(st.sampled_from(EXTENSIONS))
    return draw(st.sampled_from(RESOURCES)) + "/" + tail  # below a real resource


# -- SPARQL text ------------------------------------------------------------------------------
TEMPLATES = (
    "SELECT ?s WHERE {{ ?s ?p {term} }} LIMIT 5",
    "ASK {{ ?s ?p {term} }}",
    "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o . FILTER(?o = {term}) }} LIMIT 5",
    "DESCRIBE {term}",
    "SELECT * WHERE {{ VALUES ?x {{ {term} }} }}",
    "SELECT (STR({term}) AS ?x) {{}}",
    "SELECT ?x WHERE {{ BIND({term} AS ?x) }}",
    "{term}",
)


@st.composite
def rdf_term(draw) -> str:
    kind = draw(st.integers(0, 6))
    text = draw(st.one_of(text_any, text_words))
    if kind == 0:
        language = draw(
            st.sampled_from(
                (
                    "az",
                    "ru",
                    "en",
                    "x",
                    "az-Latn",
                    "",
                    "1",
                )
            )
        )
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"@{language}' if language else f'"{escaped}"'
    if kind == 1:
        return f"<{text}>"
    if kind == 2:
        return f'"{text}"'  # unescaped: quotes and backslashes as they come
    if kind == 3:  # deep nesting
        depth = draw(st.sampled_from((1, 2, 8, 64, 512, 3000)))
        return "(" * depth + "1" + ")" * depth
    if kind == 4:  # long literal, non-ASCII
        return '"' + draw(text_words) * draw(st.integers(1, 2000)) + '"'
    if kind == 5:
        return draw(
            st.sampled_from(
                (
                    "?x",
                    "1",
                    "-3",
                    "1e999",
                    "NaN",
                    "true",
                    "<<( <a> <b> <c> )>>",
                )
            )
        )
    return text


@st.composite
def sparql_query(draw) -> str:
    return draw(st.sampled_from(TEMPLATES)).format(term=draw(rdf_term()))


# -- query strings and bodies -------------------------------------------------------------------
PARAMETERS = ("query", "format", "output", "default-graph-uri", "named-graph-uri", "lang", "x", "")
PARAMETERS += ("q", "limit", "queries", "prefix")  # /search and /reconcile
PARAMETERS += ("subject", "predicate", "object", "graph", "page")  # /fragments
FORMAT_VALUES = (
    "n3", "json-ld", "rdf+xml", "json", "xml", "csv", "tsv", "turtle", "html", "ttl", "nt",
    "application/ld+json,application/x-json+ld", "text/tab-separated-values", "", "*/*", "nope",
)  # fmt: skip


def encoded(draw, value: str) -> str:
    """A value encoded for a query string or form body: well, badly or not as UTF-8."""
    encoding = draw(st.integers(0, 4))
    if encoding == 0:
        return quote(value, safe="")  # UTF-8, as browsers and clients send it
    if encoding == 1:
        return quote(value, safe="").replace("%20", "+")
    if encoding == 2:  # invalid UTF-8 mixed in
        return quote(value, safe="") + _percent(draw(invalid_utf8))
    if encoding == 3:  # broken escapes
        return quote(value, safe="") + draw(
            st.sampled_from(
                (
                    "%",
                    "%F",
                    "%zz",
                    "%%",
                    "&",
                    "=",
                    ";",
                )
            )
        )
    # latin-1 bytes where UTF-8 was expected
    return _percent(value.encode("latin-1", "replace"))


def parameter_value(draw, name: str) -> str:
    if name == "query":
        value = draw(sparql_query())
    elif name in ("format", "output"):
        value = draw(st.sampled_from(FORMAT_VALUES))
    else:
        value = draw(st.one_of(text_any, text_words))
    return encoded(draw, value)


@st.composite
def query_string(draw) -> str:
    names = draw(st.lists(st.sampled_from(PARAMETERS), max_size=4))
    pairs = [f"{quote(name, safe='')}={parameter_value(draw, name)}" for name in names]
    if draw(st.booleans()) and pairs:
        return "&".join(pairs)
    return "&".join([*pairs, draw(st.sampled_from(("", "&", "=", "a", "%C4%B1", "x=%C4%B1")))])


# -- headers --------------------------------------------------------------------------------------
MEDIA_TYPES = (
    "text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml",
    "application/n-quads", "application/trig", "text/html", "application/json",
    "application/sparql-results+json", "application/sparql-results+xml", "text/csv",
    "text/tab-separated-values", "*/*", "text/*", "application/*", "*/html", "image/png", "",
)  # fmt: skip
Q_VALUES = ("1", "0", "0.5", "nan", "NaN", "inf", "-1", "1e999", "0.0000001", "", "x", "1.0000")


@st.composite
def accept(draw) -> str:
    parts = []
    for media_type in draw(st.lists(st.sampled_from(MEDIA_TYPES), max_size=6)):
        if draw(st.booleans()):
            media_type += ";q=" + draw(st.sampled_from(Q_VALUES))
        if draw(st.integers(0, 5)) == 0:
            media_type += ";profile=" + draw(
                st.sampled_from(
                    (
                        '"x"',
                        "http://www.w3.org/ns/json-ld#compacted",
                        '"',
                    )
                )
            )
        parts.append(media_type)
    return draw(
        st.sampled_from(
            (
                ", ",
                ",",
                " , ",
                ";",
            )
        )
    ).join(parts)


@st.composite
def accept_language(draw) -> str:
    tags = draw(
        st.lists(
            st.one_of(
                st.sampled_from(
                    (
                        "az",
                        "ru",
                        "en",
                        "fr",
                        "*",
                        "az-Latn-AZ",
                        "x-klingon",
                        "ru;q=0",
                    )
                ),
                st.text(alphabet="azAZ-09", min_size=1, max_size=20),
                latin1_text,
            ),
            max_size=8,
        )
    )
    return ",".join(
        tag + (";q=" + draw(st.sampled_from(Q_VALUES)) if draw(st.booleans()) else "")
        for tag in tags
    )


@st.composite
def byte_range(draw) -> str:
    number = st.one_of(st.integers(0, 50_000), st.just(10**30), st.integers(-5, 0))
    ranges = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 3))
        first, last = draw(number), draw(number)
        ranges.append([f"{first}-{last}", f"{first}-", f"-{last}", draw(latin1_text)][kind])
    unit = draw(
        st.sampled_from(
            (
                "bytes=",
                "bytes = ",
                "items=",
                "",
                "BYTES=",
            )
        )
    )
    return unit + ",".join(ranges)


@st.composite
def http_date(draw) -> str:
    return draw(
        st.one_of(
            st.sampled_from(
                [
                    "Thu, 01 Jan 1970 00:00:00 GMT",
                    "Mon, 01 Jan 0001 00:00:00 GMT",
                    "Fri, 31 Dec 9999 23:59:59 GMT",
                    "Sun, 06 Nov 1994 08:49:37 GMT",
                    "Sunday, 06-Nov-94 08:49:37 GMT",
                    "Sun Nov  6 08:49:37 1994",
                    "32 Foo 2024",
                    "-1",
                    "99999999999999999999",
                ]
            ),
            latin1_text,
        )
    )


@st.composite
def etag(draw) -> str:
    tags = draw(
        st.lists(
            st.one_of(
                st.sampled_from(
                    (
                        '"x"',
                        'W/"x"',
                        "*",
                        '"',
                        "W/",
                        '""',
                        '"abc-html-az"',
                    )
                ),
                latin1_text.map(lambda text: f'"{text}"'),
            ),
            max_size=4,
        )
    )
    return ", ".join(tags)


# WSGI header values are latin-1 text; CR, LF and NUL never reach an app through gunicorn
# (it refuses them), so they are left to the raw-socket fuzzer.
latin1_text = st.text(
    alphabet=st.characters(min_codepoint=1, max_codepoint=255, blacklist_characters="\r\n"),
    max_size=60,
)
HEADER_STRATEGIES = {
    "Accept": accept(),
    "Accept-Language": accept_language(),
    "Accept-Encoding": st.sampled_from(
        (
            "gzip",
            "gzip;q=0",
            "br, gzip;q=nan",
            "*",
            "identity;q=0",
            "x",
        )
    ),
    "If-None-Match": etag(),
    "If-Match": etag(),
    "If-Modified-Since": http_date(),
    "If-Unmodified-Since": http_date(),
    "If-Range": st.one_of(etag(), http_date()),
    "Range": byte_range(),
    "Content-Type": st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=latin-1",
            "application/x-www-form-urlencoded; charset=bogus",
            "application/sparql-query",
            "application/sparql-query; charset=utf-16",
            "application/sparql-update",
            "multipart/form-data",
            "multipart/form-data; boundary=x",
            "text/plain",
            "",
            ";;;",
        ]
    ),
    "Host": st.sampled_from(
        (
            "127.0.0.1",
            "evil.example",
            "127.0.0.1:1",
            "[::1]",
            "a b",
            "",
            "é",
        )
    ),
    "X-Forwarded-Proto": st.sampled_from(
        (
            "https",
            "http",
            "gopher",
            "",
        )
    ),
    "X-Forwarded-Host": st.sampled_from(
        (
            "evil.example",
            "a/b",
            "",
        )
    ),
    "X-Forwarded-For": st.sampled_from(
        (
            "1.2.3.4",
            "x",
            "",
        )
    ),
    "Script-Name": st.sampled_from(
        (
            "/x",
            "//evil",
            "/é",
            "",
        )
    ),
    "Origin": st.sampled_from(
        (
            "http://evil.example",
            "null",
        )
    ),
    "Cookie": latin1_text,
    "User-Agent": latin1_text,
    "Referer": latin1_text,
}


@st.composite
def headers(draw) -> tuple[tuple[str, str], ...]:
    names = draw(st.lists(st.sampled_from(sorted(HEADER_STRATEGIES)), max_size=6, unique=True))
    chosen = [(name, draw(HEADER_STRATEGIES[name])) for name in names]
    if draw(st.integers(0, 9)) == 0:  # a huge value
        chosen.append(
            (draw(st.sampled_from(sorted(HEADER_STRATEGIES))), "a," * draw(st.integers(1000, 4000)))
        )
    if draw(st.integers(0, 9)) == 0:  # anything in any header
        chosen.append((draw(st.sampled_from(sorted(HEADER_STRATEGIES))), draw(latin1_text)))
    return tuple(chosen)


def body(draw, content_type: str) -> bytes:
    if "form" in content_type:
        return query_string_bytes(draw(query_string()))
    return direct_body(draw, draw(sparql_query()))


def query_string_bytes(text: str) -> bytes:
    return text.encode("latin-1", "replace")


@st.composite
def any_request(draw) -> Fuzzed:
    method = draw(st.sampled_from(METHODS))
    target = draw(path())
    if draw(st.integers(0, 2)) > 0:
        target += "?" + draw(query_string())
    chosen = draw(headers())
    data = b""
    if method in ("POST", "PUT", "PATCH"):
        given = dict(chosen).get("Content-Type")
        content_type = given if given is not None else draw(HEADER_STRATEGIES["Content-Type"])
        if given is None:
            chosen = (*chosen, ("Content-Type", content_type))
        data = body(draw, content_type)
    return Fuzzed(method, target, chosen, data)


@st.composite
def sparql_case(draw) -> tuple[Fuzzed, ...]:
    """One fuzzed query, sent the three ways the protocol allows: GET, form POST, direct POST.

    The other parameters (format=, default-graph-uri=, junk) and the headers are fuzzed too;
    the direct POST carries them in the URL, as SPARQLWrapper and Comunica do.
    """
    text = draw(sparql_query())
    extra = draw(query_string())
    chosen = tuple((k, v) for k, v in draw(headers()) if k != "Content-Type")
    parameters = "query=" + encoded(draw, text) + (f"&{extra}" if extra else "")
    form = ("Content-Type", "application/x-www-form-urlencoded")
    direct = (
        "Content-Type",
        draw(
            st.sampled_from(
                (
                    "application/sparql-query",
                    "application/sparql-query; charset=UTF-8",
                )
            )
        ),
    )
    return (
        Fuzzed("GET", "/sparql?" + parameters, chosen),
        Fuzzed("POST", "/sparql", (*chosen, form), query_string_bytes(parameters)),
        Fuzzed(
            "POST",
            "/sparql" + (f"?{extra}" if extra else ""),
            (*chosen, direct),
            direct_body(draw, text),
        ),
    )


def direct_body(draw, text: str) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return text.encode("utf-8")
    if kind == 1:
        return text.encode("utf-8") + draw(invalid_utf8)
    if kind == 2:
        return draw(st.binary(max_size=200))
    return text.encode(
        draw(
            st.sampled_from(
                (
                    "utf-16",
                    "latin-1",
                    "utf-8-sig",
                )
            )
        ),
        "replace",
    )


ALL_ROUTES = FIXED_ROUTES + tuple(
    resource + extension for resource in RESOURCES for extension in EXTENSIONS[:7]
)


def elsewhere(request: Fuzzed, count: int, start: int) -> list[Fuzzed]:
    """The same hostile query string and headers, sent to `count` other routes."""
    _path, separator, query = request.target.partition("?")
    routes = [ALL_ROUTES[(start + i) % len(ALL_ROUTES)] for i in range(count)]
    # Other methods would mostly meet 405 from the router; GET reaches the handlers.
    method = request.method if request.method in ("GET", "HEAD") else "GET"
    return [Fuzzed(method, route + separator + query, request.headers) for route in routes]


# -- raw bytes on the wire (what no WSGI environ can hold) ------------------------------------
wire_bytes = st.binary(max_size=40)
WIRE_TARGETS = (b"/", b"/sparql?query=ASK%7B%7D", b"/doc/place/khojaly", b"/dumps/dataset.nt.gz")


@st.composite
def wire_request(draw) -> bytes:
    """One request as bytes: a broken request line, header bytes, framing or body."""
    method = draw(
        st.sampled_from(
            (
                b"GET",
                b"POST",
                b"HEAD",
                b"get",
                b"G\xc3\xa9T",
                b"",
            )
        )
    )
    target = draw(st.sampled_from(WIRE_TARGETS))
    kind = draw(st.integers(0, 3))
    if kind == 1:  # raw bytes in the target: non-ASCII, controls, spaces
        target += draw(wire_bytes).replace(b"\r", b"").replace(b"\n", b"")
    elif kind == 2:
        target = b"/" + b"a" * draw(st.integers(1000, 12000))
    elif kind == 3:
        target = draw(
            st.sampled_from(
                (
                    b"*",
                    b"http://evil.example/",
                    b"//x",
                    b"",
                    b"?",
                    b"%",
                )
            )
        )
    version = draw(
        st.sampled_from(
            (
                b"HTTP/1.1",
                b"HTTP/1.0",
                b"HTTP/2.0",
                b"HTTP/9.9",
                b"HTTP/1.1x",
                b"",
            )
        )
    )
    lines = [method + b" " + target + b" " + version]
    lines.append(
        b"Host: "
        + draw(
            st.sampled_from(
                (
                    b"127.0.0.1",
                    b"\xff",
                    b"",
                    b"a" * 300,
                )
            )
        )
    )
    for _ in range(draw(st.integers(0, 5))):
        name = draw(
            st.sampled_from(
                [b"Accept", b"Accept-Language", b"Range", b"If-None-Match", b"Content-Type",
                 b"X-Forwarded-Proto", b"Script-Name", b"Acc\xe9pt", b"", b" Accept", b"X"]
            )
        )  # fmt: skip
        value = draw(
            st.one_of(
                wire_bytes.map(lambda data: data.replace(b"\n", b"")),
                st.sampled_from(
                    (
                        b"text/turtle",
                        b"\xd0\xa5\xd0\xbe",
                        b"\x00",
                        b"\r",
                        b"a\r\n folded",
                    )
                ),
            )
        )
        separator = draw(
            st.sampled_from(
                (
                    b": ",
                    b":",
                    b" : ",
                    b"",
                )
            )
        )
        lines.append(name + separator + value)
    if draw(st.integers(0, 9)) == 0:
        lines.append(b"X-Big: " + b"b" * draw(st.integers(8000, 70000)))
    if draw(st.integers(0, 9)) == 0:
        lines.extend(b"X-Many-%d: 1" % i for i in range(draw(st.integers(50, 300))))
    body = b""
    framing = draw(st.integers(0, 5))
    if framing == 1:
        body = draw(wire_bytes)
        lines.append(b"Content-Length: %d" % len(body))
    elif framing == 2:  # claims more than it sends (we then close our side)
        body = draw(wire_bytes)
        lines.append(b"Content-Length: %d" % (len(body) + draw(st.integers(1, 10**6))))
    elif framing == 3:
        lines.append(
            b"Content-Length: "
            + draw(
                st.sampled_from(
                    (
                        b"-1",
                        b"x",
                        b"1, 2",
                        b"9" * 30,
                    )
                )
            )
        )
    elif framing == 4:  # chunked, maybe broken
        lines.append(b"Transfer-Encoding: chunked")
        body = draw(
            st.sampled_from(
                [
                    b"5\r\nquery\r\n0\r\n\r\n",
                    b"zz\r\n",
                    b"ffffffffffffffff\r\nx",
                    b"1\r\nxx\r\n0\r\n",
                    b"",
                ]
            )
        )
    elif framing == 5:
        lines += [b"Content-Length: 3", b"Transfer-Encoding: chunked"]
        body = b"0\r\n\r\n"
    end = draw(
        st.sampled_from(
            (
                b"\r\n",
                b"\n",
            )
        )
    )
    return end.join(lines) + end + end + body


# -- sending ----------------------------------------------------------------------------------------
def environ_for(request: Fuzzed) -> dict:
    """The WSGI environ gunicorn builds for this request (see gunicorn/http/wsgi.py)."""
    raw_path, _, raw_query = request.target.partition("?")
    environ = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "QUERY_STRING": raw_query.encode("utf-8", "surrogateescape").decode("latin-1"),
        "RAW_URI": request.target.encode("utf-8").decode("latin-1"),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(request.body)) if request.body else "",
        "HTTP_HOST": "127.0.0.1",
    }
    for name, value in request.headers:
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        else:
            environ["HTTP_" + key] = value
    return environ


def send_in_process(app, request: Fuzzed) -> Outcome:
    started = time.perf_counter()
    try:
        app_iter, status, _headers = run_wsgi_app(app, environ_for(request), buffered=True)
        for _chunk in app_iter:
            pass
        code = int(status.split(" ", 1)[0])
    except Exception as error:  # an exception escaping the app is a 500 in production
        return Outcome(
            None, time.perf_counter() - started, f"{type(error).__name__}: {error}"[:300]
        )
    return Outcome(code, time.perf_counter() - started)


HALF_CLOSE_AFTER_S = 1.0


def _read_status(sock: socket.socket, received: bytes) -> bytes:
    """Read until the status line is complete or the server closes."""
    while b"\r\n" not in received and (chunk := sock.recv(65536)):
        received += chunk[: max(0, 200 - len(received))]
    return received


def send_raw(port: int, payload: bytes, *, timeout_s: float) -> Outcome:
    """Write bytes to the server and read the answer's status line.

    The connection stays open for writing first: granian (hyper) drops a half-closed
    connection without answering, as many servers do. Only a request the server is still
    waiting on (a head or body cut short) gets our side closed after a moment, so that the
    server sees the end and answers or drops it.
    """
    started = time.perf_counter()
    received = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
            sock.sendall(payload)
            sock.settimeout(HALF_CLOSE_AFTER_S)
            try:
                received = _read_status(sock, received)
            except TimeoutError:
                # The server may already have closed a connection whose head it refused.
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_WR)
                sock.settimeout(timeout_s)
                received = _read_status(sock, received)
    except (ConnectionResetError, BrokenPipeError):
        pass  # the server may drop a malformed request without an answer; that is allowed
    except TimeoutError:
        return Outcome(None, time.perf_counter() - started, "TimeoutError: no answer, no close")
    seconds = time.perf_counter() - started
    if not received.startswith(b"HTTP/"):
        return Outcome(None, seconds)
    try:
        return Outcome(int(received.split(b" ", 2)[1]), seconds)
    except (IndexError, ValueError):
        return Outcome(None, seconds, f"unparsable status line {received[:80]!r}")
