"""The web tier side by side (issue 10): publisher, Oxigraph server, Virtuoso, and a static
file server, in one run, on the same data, with the same clients.

    .venv/bin/python bench/web_speed.py [--triples 20000] [--seconds 10] [--requests 5000]
        [--clients 4] [--crawl 0] [--skip virtuoso,nginx]
    only the /doc/ part (steps 3 and 4): --skip virtuoso,oxigraph,mixes,lookups
    /doc/ variants rendered by the build (the first crawler pass then reads files):
        --prerender build (every variant of every thing: for small --triples)

Data: the toy corpus (tests/corpus.py), built with `publisher build --no-validate`; the
Oxigraph server loads the same N-Quads, Virtuoso bulk-loads them (tests/virtuoso_server.py).
Every server binds 127.0.0.1 on a free port and is stopped by its process group at the end;
every load is bounded by `--requests` and `--seconds`.

Measured (4 concurrent clients by default):
1. two SPARQL mixes of five query shapes (point lookup, value range + language filter,
   GROUP BY aggregate, GRAPH provenance, CONSTRUCT): *repeated* (the same five queries again)
   and *fresh* (the same shapes, constants drawn at random per request, so no cache helps);
   q/s and per-shape p50. Python client processes (one keep-alive connection each); every
   answer is kept and checked after the timed phase against pyoxigraph on the build's store
   (SELECT as a multiset of value rows, CONSTRUCT as a set of triples);
2. point lookup req/s under wrk (if installed; else the Python client): one repeated URL,
   and a random entity per request (a wrk Lua script);
3. /doc/ dereferencing under wrk, Turtle and HTML, a random resource per request: the
   publisher vs nginx serving the very files the publisher answered (written by the crawl);
4. a crawler pass over every resource (Turtle and HTML of every entity and group, or the
   first `--crawl`): the publisher, then nginx on the copies.
The load generators share the machine's cores with the servers: compare ratios.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
from corpus import TRIPLES_PER_ENTITY, write_corpus  # noqa: E402
from machine import describe  # noqa: E402
from support import stop_process_group as stop  # noqa: E402

BASE = "http://bench.example/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
JSON_RESULTS = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
SHAPES = ("lookup", "range", "aggregate", "provenance", "construct")


def build_toy_dist(work: Path, *, triples: int, prerender: str = "first-request") -> Path:
    """The toy corpus (tests/corpus.py) in work/data, built into work/dist without validation
    (`prerender`: the setting doc_prerender); returns the corpus file. Every web bench serves
    this."""
    corpus = write_corpus(work / "data", triples=triples, base=BASE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env["PUBLISHER_DOC_PRERENDER"] = prerender
    subprocess.run(
        [sys.executable, "-m", "publisher", "build", "--data", str(work / "data"),
         "--out", str(work / "dist"), "--no-validate", "--base", BASE,
         "--ontology", "", "--shapes", ""],
        cwd=ROOT, check=True, capture_output=True, env=env,
    )  # fmt: skip
    return corpus


# -- the five query shapes, each with its constants drawn from `rng` -------------------------
def make_query(shape: str, rng: random.Random, entities: int) -> str:
    entity = f"<{BASE}id/entity/{rng.randrange(entities)}>"
    if shape == "lookup":
        return f"SELECT ?label WHERE {{ {entity} <{LABEL}> ?label }}"
    if shape == "range":
        # Values are uniform in [0, 1e6): a window holding about 100 entities at any size.
        width = max(1, 100 * 1_000_000 // entities)
        low = rng.randrange(1_000_000 - width)
        return (
            f"SELECT ?e ?label ?v WHERE {{ ?e <{BASE}def/value> ?v ; <{LABEL}> ?label "
            f'FILTER(?v >= {low} && ?v < {low + width} && langMatches(lang(?label), "en")) }}'
        )
    if shape == "aggregate":
        return (
            f"SELECT ?g (COUNT(?e) AS ?n) WHERE {{ ?e a <{BASE}def/Class{rng.randrange(10)}> ; "
            f"<{BASE}def/group> ?g ; <{BASE}def/value> ?v FILTER(?v > {rng.randrange(900_000)}) }}"
            " GROUP BY ?g"
        )
    if shape == "provenance":
        return (
            f"SELECT ?g (COUNT(?e) AS ?n) WHERE {{ GRAPH ?g {{ ?e <{BASE}def/group> "
            f"<{BASE}id/group/{rng.randrange(100)}> ; <{BASE}def/value> ?v "
            f"FILTER(?v < {rng.randrange(1_000_000)}) }} }} GROUP BY ?g"
        )
    if shape == "construct":
        return (
            f"CONSTRUCT {{ {entity} ?p ?o . ?o <{LABEL}> ?l }} WHERE {{ {entity} ?p ?o "
            f"OPTIONAL {{ ?o <{LABEL}> ?l }} }}"
        )
    raise ValueError(shape)


# -- normalised answers: what "the same answer" means across engines -------------------------
def answer_of_body(body: bytes, construct: bool) -> tuple:
    if construct:
        triples = ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
        return tuple(sorted((t.subject.value, t.predicate.value, t.object.value) for t in triples))
    data = json.loads(body)
    names = data["head"]["vars"]
    rows = [
        tuple(str(b[n]["value"]) if n in b else "" for n in names)
        for b in data["results"]["bindings"]
    ]
    return tuple(sorted(rows))


def answer_of_engine(store: ox.Store, query: str) -> tuple:
    result = store.query(query)
    if isinstance(result, ox.QueryTriples):
        return tuple(sorted((t.subject.value, t.predicate.value, t.object.value) for t in result))
    names = [v.value for v in result.variables]
    rows = [tuple(row[n].value if row[n] is not None else "" for n in names) for row in result]
    return tuple(sorted(rows))


def numeric(answer: tuple) -> tuple:
    """Engines write the same integer differently ("3" vs "3"^^xsd:int): compare numbers."""

    def norm(value: object) -> object:
        if isinstance(value, tuple):
            return tuple(norm(v) for v in value)
        text = str(value)
        return int(text) if re.fullmatch(r"-?\d+", text) else text

    return tuple(sorted(norm(row) for row in answer))


# -- the Python load client (mixes, crawl; the fallback when wrk is missing) -----------------
def _mix_client(args: tuple) -> dict:
    port, path, mix, budget, seconds, seed, entities = args
    rng = random.Random(seed)
    fixed = {shape: make_query(shape, random.Random(7), entities) for shape in SHAPES}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    latencies: dict[str, list[float]] = {shape: [] for shape in SHAPES}
    bodies: dict[str, set[bytes]] = {}
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    done = 0
    while done < budget and time.monotonic() < deadline:
        shape = SHAPES[(done + seed) % len(SHAPES)]
        query = fixed[shape] if mix == "repeated" else make_query(shape, rng, entities)
        accept = NTRIPLES if shape == "construct" else JSON_RESULTS
        started = time.perf_counter()
        try:
            connection.request(
                "GET", path + "?" + urlencode({"query": query}), headers={"Accept": accept}
            )
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as error:
            errors.append(f"{shape}: {error}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            continue
        finally:
            done += 1
        latencies[shape].append(time.perf_counter() - started)
        if response.status != 200:
            errors.append(f"{shape}: HTTP {response.status} {body[:200]!r}")
        else:
            bodies.setdefault(query, set()).add(body)
    connection.close()
    return {"latencies": latencies, "bodies": bodies, "errors": errors}


def run_mix(port: int, path: str, mix: str, options: argparse.Namespace, entities: int) -> dict:
    jobs = [
        (port, path, mix, options.requests // options.clients, options.seconds, seed, entities)
        for seed in range(options.clients)
    ]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(options.clients) as pool:
        results = pool.map(_mix_client, jobs)
    wall = time.perf_counter() - started
    latencies = {s: sorted(x for r in results for x in r["latencies"][s]) for s in SHAPES}
    bodies: dict[str, set[bytes]] = {}
    for r in results:
        for query, found in r["bodies"].items():
            bodies.setdefault(query, set()).update(found)
    done = sum(len(v) for v in latencies.values())
    return {
        "qps": done / wall,
        "requests": done,
        "p50": {
            s: statistics.median(v) * 1000 if v else float("nan") for s, v in latencies.items()
        },
        "bodies": bodies,
        "errors": [e for r in results for e in r["errors"]],
    }


def check_answers(bodies: dict[str, set[bytes]], engine: ox.Store) -> list[str]:
    """Every distinct answer a server gave, against the engine's answer to the same query."""
    wrong = []
    for query, found in bodies.items():
        construct = query.startswith("CONSTRUCT")
        expected = numeric(answer_of_engine(engine, query))
        for body in found:
            try:
                got = numeric(answer_of_body(body, construct))
            except (ValueError, KeyError, SyntaxError) as error:
                wrong.append(f"unreadable answer ({error}) to {query[:80]}")
                continue
            if got != expected:
                wrong.append(f"{len(got)} rows instead of {len(expected)} for {query[:100]}")
    return wrong


def _crawl_client(args: tuple) -> tuple[int, int, list[tuple[str, bytes]]]:
    port, paths, keep = args
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    ok = failed = 0
    kept = []
    for path in paths:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        if response.status == 200:
            ok += 1
            if keep:
                kept.append((path, body))
        else:
            failed += 1
    connection.close()
    return ok, failed, kept


def crawl(port: int, paths: list[str], clients: int, *, keep: bool) -> dict:
    shares = [(port, paths[i::clients], keep) for i in range(clients)]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(_crawl_client, shares)
    wall = time.perf_counter() - started
    return {
        "seconds": wall,
        "rps": len(paths) / wall,
        "failed": sum(r[1] for r in results),
        "kept": [item for r in results for item in r[2]],
    }


# -- wrk -------------------------------------------------------------------------------------
def wrk(url: str, *, seconds: float, clients: int, accept: str, script: str | None) -> dict:
    command = ["wrk", "-t", str(min(clients, 2)), "-c", str(clients), "-d", f"{seconds:.0f}s"]
    command += ["--latency", "-H", f"Accept: {accept}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script or "")
    if script:
        command += ["-s", lua.name]
    out = subprocess.run([*command, url], capture_output=True, text=True, timeout=seconds + 60)
    os.unlink(lua.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out.stdout)
    errors = re.search(r"Socket errors: (.*)", out.stdout)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out.stdout)
    scale = {"us": 0.001, "ms": 1, "s": 1000}
    return {
        "rps": float(rps.group(1)) if rps else float("nan"),
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1) if errors else "",
        "p50_ms": float(p50.group(1)) * scale[p50.group(2)] if p50 else float("nan"),
    }


def random_path_script(prefix: str, suffix: str, count: int) -> str:
    """A wrk Lua script: each request's path is prefix .. random(0, count-1) .. suffix."""
    return (
        f"math.randomseed({random.randrange(1 << 30)})\n"
        "request = function()\n"
        f'  return wrk.format(nil, "{prefix}" .. math.random(0, {count - 1}) .. "{suffix}")\n'
        "end\n"
    )


# -- servers ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(
    command: list[str], log: Path, env: dict | None = None, *, cwd: Path = ROOT
) -> subprocess.Popen:
    """`cwd`: `python -m publisher` imports the publisher of this directory before PYTHONPATH
    (sys.path[0] is the current directory), so an older tree is served from its own."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )


def wait_up(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            host, rest = url.split("//", 1)[1].split("/", 1)
            name, port = host.split(":")
            connection = http.client.HTTPConnection(name, int(port), timeout=5)
            connection.request("GET", "/" + rest)
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


NGINX_CONF = """worker_processes 2;
{user}
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types {{ text/turtle ttl; text/html html; }}
  server {{
    listen 127.0.0.1:{port};
    root {root};
    location / {{ try_files $uri =404; }}
  }}
}}
"""


def print_machine() -> None:
    print("date:", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
    print("machine:", describe())


def print_targets(mixes: dict, lookups: dict, docs: dict) -> None:
    """The targets of issue 10, from what was measured."""
    print("\ntargets (issue 10):")

    def ratio(label: str, ours: float, theirs: float | None, target: float) -> None:
        if theirs is None or theirs != theirs:
            print(f"  {label}: baseline not measured")
            return
        value = ours / theirs if theirs else float("inf")
        verdict = "met" if value >= target else f"MISSED by {(1 - value / target) * 100:.0f} %"
        print(f"  {label}: {value:.2f}x (target {target}x) {verdict}")

    def qps(mix: str, name: str) -> float | None:
        return mixes[(mix, name)]["qps"] if (mix, name) in mixes else None

    ratio("repeated mix vs Virtuoso", qps("repeated", "publisher") or 0,
          qps("repeated", "virtuoso"), 1.2)  # fmt: skip
    ratio("fresh mix vs Oxigraph", qps("fresh", "publisher") or 0,
          qps("fresh", "oxigraph"), 1.0)  # fmt: skip
    if qps("fresh", "before"):
        ratio("fresh mix (before) vs Oxigraph", qps("fresh", "before") or 0,
              qps("fresh", "oxigraph"), 1.0)  # fmt: skip
    if "publisher" in lookups:
        ratio("point lookup (repeated URL) vs Oxigraph", lookups["publisher"]["rps"],
              lookups.get("oxigraph", {}).get("rps"), 1.0)  # fmt: skip
    if ("ttl", "publisher") in docs:
        ratio("/doc/ Turtle vs nginx", docs[("ttl", "publisher")]["rps"],
              docs.get(("ttl", "nginx"), {}).get("rps"), 0.5)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=10, help="per measurement")
    parser.add_argument("--requests", type=int, default=5000, help="per mix and server")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="publisher web processes")
    parser.add_argument("--crawl", type=int, default=0, help="resources crawled (0 = all)")
    parser.add_argument(
        "--skip",
        default="",
        help="comma list: virtuoso, nginx, oxigraph, mixes, lookups, docs "
        "(only the /doc/ part: --skip virtuoso,oxigraph,mixes,lookups)",
    )
    parser.add_argument("--mixes", default="repeated,fresh", help="which mixes (comma list)")
    parser.add_argument(
        "--before",
        default="",
        help="a source tree of the publisher (e.g. `git archive` of an older commit) served "
        "too, as `before`, with the same settings: a before/after in one run",
    )
    parser.add_argument(
        "--prerender",
        default="first-request",
        help="the build's doc_prerender (build: every /doc/ variant rendered by the build, "
        "so the first crawler pass reads files; for small --triples)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting of the served publishers, e.g. PUBLISHER_ACCESS_LOG=off (repeatable; "
        "the servers start with no other PUBLISHER_* variable of this shell)",
    )
    options = parser.parse_args()
    skip = set(filter(None, options.skip.split(",")))

    print_machine()
    work = Path(tempfile.mkdtemp(prefix="web-speed-"))
    servers: list[subprocess.Popen] = []
    virtuoso = None
    try:
        entities = -(-options.triples // TRIPLES_PER_ENTITY)
        started = time.perf_counter()
        corpus = build_toy_dist(work, triples=options.triples, prerender=options.prerender)
        print(f"corpus: {options.triples} triples, {entities} entities ({corpus})")
        print(f"publisher build: {time.perf_counter() - started:.1f} s "
              f"(doc_prerender={options.prerender})")  # fmt: skip
        engine = ox.Store.read_only(str(work / "dist" / "store"))

        sparql: dict[str, tuple[int, str]] = {}  # server -> (port, path)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
        env["PUBLISHER_CACHE_DIR"] = str(work / "cache")
        env.update(assignment.split("=", 1) for assignment in options.env)
        servers.append(
            start(
                [sys.executable, "-m", "publisher", "serve", "--dist", str(work / "dist"),
                 "--host", "127.0.0.1", "--port", str(port), "--workers", str(options.workers)],
                work / "publisher.log", env,
            )
        )  # fmt: skip
        sparql["publisher"] = (port, "/sparql")
        if options.before:
            port = free_port()
            before_env = {**env, "PYTHONPATH": str(Path(options.before).resolve())}
            before_env["PUBLISHER_CACHE_DIR"] = str(work / "cache-before")
            servers.append(
                start(
                    [sys.executable, "-m", "publisher", "serve", "--dist", str(work / "dist"),
                     "--host", "127.0.0.1", "--port", str(port), "--workers",
                     str(options.workers)],
                    work / "before.log", before_env, cwd=Path(options.before).resolve(),
                )
            )  # fmt: skip
            sparql["before"] = (port, "/sparql")
        if "oxigraph" not in skip:
            oxigraph = shutil.which("oxigraph", path=str(Path(sys.executable).parent))
            if oxigraph is None:
                print("oxigraph: not installed (pip install oxigraph): column skipped")
            else:
                started = time.perf_counter()
                subprocess.run(
                    [oxigraph, "load", "--location", str(work / "oxigraph"), "--file",
                     str(corpus)], check=True, capture_output=True,
                )  # fmt: skip
                print(f"oxigraph load: {time.perf_counter() - started:.1f} s")
                port = free_port()
                servers.append(
                    start(
                        [oxigraph, "serve-read-only", "--location", str(work / "oxigraph"),
                         "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                        work / "oxigraph.log",
                    )
                )  # fmt: skip
                sparql["oxigraph"] = (port, "/query")
        if "virtuoso" not in skip:
            try:
                from virtuoso_server import VirtuosoServer, virtuoso_available
            except ImportError:
                print("virtuoso: TODO, tests/virtuoso_server.py (branch feat/virtuoso) missing")
            else:
                reason = virtuoso_available()
                if reason:
                    print(f"virtuoso: skipped ({reason})")
                else:
                    virtuoso = VirtuosoServer(work / "virtuoso")
                    virtuoso.start()
                    print(f"virtuoso bulk load: {virtuoso.bulk_load(corpus):.1f} s")
                    sparql["virtuoso"] = (virtuoso.http_port, "/sparql")
        ask = "?" + urlencode({"query": "ASK {}"})
        for port, path in sparql.values():
            wait_up(f"http://127.0.0.1:{port}{path}{ask}")
        print(f"servers: {', '.join(sparql)}; {options.clients} concurrent clients, "
              f"at most {options.requests} requests or {options.seconds:.0f} s per load\n")  # fmt: skip

        # 1. the two mixes
        mixes: dict[tuple[str, str], dict] = {}
        chosen = [m for m in ("repeated", "fresh") if m in options.mixes.split(",")]
        for mix in chosen if "mixes" not in skip else ():
            for name, (port, path) in sparql.items():
                warm = argparse.Namespace(**{**vars(options), "requests": 20})
                run_mix(port, path, mix, warm, entities)  # pools, file caches
                figures = run_mix(port, path, mix, options, entities)
                wrong = check_answers(figures["bodies"], engine)
                figures["wrong"] = wrong
                mixes[(mix, name)] = figures
        print(f"{'mix':9} {'server':10} {'q/s':>8} {'requests':>8} {'errors':>6} {'wrong':>5}  "
              f"p50 ms ({' / '.join(SHAPES)})")  # fmt: skip
        for (mix, name), f in mixes.items():
            p50 = " / ".join(f"{f['p50'][s]:.1f}" for s in SHAPES)
            print(f"{mix:9} {name:10} {f['qps']:8.1f} {f['requests']:8d} "
                  f"{len(f['errors']):6d} {len(f['wrong']):5d}  {p50}")  # fmt: skip
            for problem in (f["errors"] + f["wrong"])[:3]:
                print("   ", problem)

        # 2. point lookup under wrk (or the Python client)
        print()
        has_wrk = shutil.which("wrk") is not None
        lookups: dict[str, dict] = {}
        docs: dict[tuple[str, str], dict] = {}
        lookup = f"SELECT ?label WHERE {{ <{BASE}id/entity/" + "{}" + f"> <{LABEL}> ?label }}"
        before, after = (quote(part, safe="") for part in lookup.split("{}"))
        if "lookups" in skip:
            pass
        elif not has_wrk:
            print("wrk: not installed (apt-get install wrk): point lookups skipped")
        else:
            for name, (port, path) in sparql.items():
                url = f"http://127.0.0.1:{port}{path}?query=" + quote(
                    lookup.replace("{}", "7"), safe=""
                )
                same = wrk(url, seconds=options.seconds, clients=options.clients,
                           accept=JSON_RESULTS, script=None)  # fmt: skip
                script = random_path_script(f"{path}?query={before}", after, entities)
                fresh = wrk(url, seconds=options.seconds, clients=options.clients,
                            accept=JSON_RESULTS, script=script)  # fmt: skip
                lookups[name] = same
                print(f"point lookup {name:10} repeated {same['rps']:8.0f} req/s "
                      f"(p50 {same['p50_ms']:.2f} ms, non-2xx {same['non_2xx']})   "
                      f"random entity {fresh['rps']:8.0f} req/s (p50 {fresh['p50_ms']:.2f} ms, "
                      f"non-2xx {fresh['non_2xx']})")  # fmt: skip

        # 3 + 4. the crawl (publisher, keeping the files for nginx), then /doc/ under wrk
        print()
        if "docs" in skip:
            print_targets(mixes, lookups, docs)
            return
        publisher_port = sparql["publisher"][0]
        count = entities if options.crawl <= 0 else min(options.crawl, entities)
        paths = [f"/doc/entity/{i}.{ext}" for ext in ("ttl", "html") for i in range(count)]
        paths += [f"/doc/group/{g}.{ext}" for ext in ("ttl", "html") for g in range(100)]
        first = crawl(publisher_port, paths, options.clients, keep=True)
        print(f"crawl publisher (first pass, renders): {len(paths)} documents in "
              f"{first['seconds']:.1f} s = {first['rps']:.0f} doc/s, failed {first['failed']}")  # fmt: skip
        again = crawl(publisher_port, paths, options.clients, keep=False)
        print(f"crawl publisher (again, rendered):     {again['rps']:.0f} doc/s, "
              f"failed {again['failed']}")  # fmt: skip
        static = work / "static"
        for path, body in first["kept"]:
            target = static / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        del first
        doc_servers = {"publisher": publisher_port}
        if "nginx" not in skip and shutil.which("nginx"):
            port = free_port()
            conf = work / "nginx.conf"
            user = "user root;" if os.geteuid() == 0 else ""
            conf.write_text(NGINX_CONF.format(user=user, work=work, port=port, root=static))
            servers.append(start(["nginx", "-c", str(conf), "-g", "daemon off;"],
                                 work / "nginx.log"))  # fmt: skip
            wait_up(f"http://127.0.0.1:{port}/doc/entity/0.ttl")
            doc_servers["nginx"] = port
            copy = crawl(port, paths, options.clients, keep=False)
            print(f"crawl nginx (static copies):           {copy['rps']:.0f} doc/s, "
                  f"failed {copy['failed']}")  # fmt: skip
        else:
            print("nginx: not installed (apt-get install nginx-light): static baseline skipped")
        if has_wrk:
            for ext, accept in (("ttl", "text/turtle"), ("html", "text/html")):
                for name, port in doc_servers.items():
                    script = random_path_script("/doc/entity/", f".{ext}", count)
                    f = wrk(f"http://127.0.0.1:{port}/doc/entity/0.{ext}",
                            seconds=options.seconds, clients=options.clients, accept=accept,
                            script=script)  # fmt: skip
                    docs[(ext, name)] = f
                    print(f"/doc/ {ext:4} {name:10} {f['rps']:8.0f} req/s (p50 "
                          f"{f['p50_ms']:.2f} ms, non-2xx {f['non_2xx']})")  # fmt: skip

        print_targets(mixes, lookups, docs)
    finally:
        if virtuoso is not None:
            virtuoso.stop()
        for process in servers:
            stop(process)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
