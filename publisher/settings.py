"""Every setting the publisher has, declared once.

Each setting has a name, a default, a unit and help text. Values are layered:
defaults -> environment (``PUBLISHER_<NAME>``) -> explicit overrides (CLI options, tests).
Error messages that are caused by a limit name the setting to change (see ``env_name``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    unit: str
    help: str

    @property
    def env(self) -> str:
        return env_name(self.name)

    def coerce(self, raw: Any) -> Any:
        """Turn an environment string (or an override) into the default's type."""
        if raw is None or isinstance(raw, type(self.default)):
            return raw
        if isinstance(self.default, bool):
            return str(raw).strip().lower() in {"1", "true", "yes", "on"}
        if isinstance(self.default, int):
            return int(raw)
        if isinstance(self.default, float):
            return float(raw)
        return str(raw)


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "base_uri",
        "http://127.0.0.1:8080/",
        "IRI",
        "Base under which every IRI of the dataset is minted (/id, /doc, /def, /graph). "
        "Data files use relative IRIs resolved against it at build time; rebuild to re-home.",
    ),
    Setting("ontology_dir", "ontology", "path", "Directory of the OWL ontology (Turtle)."),
    Setting(
        "data_dir", "data", "path", "Directory of curated RDF files (TriG, Turtle, N-Quads...)."
    ),
    Setting("shapes_dir", "shapes", "path", "Directory of SHACL shapes (Turtle)."),
    Setting("dist_dir", "dist", "path", "Where `build` writes dumps and the store; `serve` reads."),
    Setting(
        "shared_graphs",
        "graph/ontology graph/curated graph/provenance",
        "relative IRIs",
        "Graphs validated together with every other graph (space separated, relative to base).",
    ),
    Setting(
        "validation_engine",
        "sparql",
        "name",
        "SHACL engine of the gate: `sparql` (shapes compiled to SPARQL on pyoxigraph, exact and "
        "fast) or `pyshacl` (the reference engine, slow).",
    ),
    Setting(
        "validation_workers",
        0,
        "processes",
        "Processes that validate documents in parallel (0 = number of CPUs).",
    ),
    Setting("title", "Khojaly 1992: a press release as linked data", "text", "Dataset title."),
    Setting(
        "description",
        "What one press release states, as RDF: each source document's statements in its own "
        "named graph with provenance, curated identity data in another, validated against "
        "SHACL shapes.",
        "text",
        "Dataset description (dct:description of /dataset).",
    ),
    Setting(
        "dataset_publisher",
        "The publisher project maintainers",
        "text",
        "Who publishes the dataset (dct:publisher of /dataset); not the publisher of a source.",
    ),
    Setting(
        "license",
        "https://creativecommons.org/licenses/by/4.0/",
        "IRI",
        "Licence of the published dataset (dct:license in the VoID/DCAT description).",
    ),
    Setting("host", "127.0.0.1", "address", "Address `serve` binds to."),
    Setting("port", 8080, "port", "Port `serve` binds to."),
    Setting("workers", 2, "processes", "Worker processes for `serve` (0 = dev server)."),
    Setting(
        "threads",
        16,
        "threads",
        "Threads per worker process that run requests; slow or idle connections hold none. "
        "A thread waiting for a SPARQL worker holds one, so a few runaway queries must not "
        "use them all.",
    ),
    Setting(
        "access_log",
        True,
        "on/off",
        "`serve` writes a line per request to its output, in granian's format, within about a "
        "second (written in batches: granian's own log cost a third of a replayed answer's CPU).",
    ),
    Setting(
        "header_timeout_ms",
        10_000,
        "ms",
        "How long `serve` waits for a request's line and headers before closing the "
        "connection (slow clients).",
    ),
    Setting(
        "trusted_proxies",
        0,
        "proxies",
        "Reverse proxies in front of `serve` whose X-Forwarded-For/-Proto/-Host/-Prefix "
        "headers are trusted (0 = trust none: the headers are ignored).",
    ),
    Setting(
        "store",
        "auto",
        "auto, disk, memory or URL",
        "Where the web tier reads the graph: `disk` opens dist/store read-only, `memory` loads "
        "dist/dataset.nq.gz into RAM per process, an http(s) URL uses a remote SPARQL 1.1 endpoint; "
        "`auto`: pages read dist/store, the SPARQL query workers load the dump into RAM when the "
        "build has at most store_memory_max_quads quads (aggregates about 3x faster), else read "
        "dist/store.",
    ),
    Setting(
        "store_memory_max_quads",
        250_000,
        "quads",
        "store `auto`: the largest build whose SPARQL query workers hold it in RAM (about "
        "0.55 KB per quad in each worker, 1.2 s to start per 100,000 quads); 0 = never.",
    ),
    Setting(
        "store_union_graph",
        "",
        "IRI",
        "Remote store only: the named graph that holds the union default graph, for stores whose "
        "default graph is not separate (Virtuoso: urn:publisher:union). `load` writes it, `serve` "
        "asks for it; empty = the store's own default graph (Oxigraph server).",
    ),
    Setting(
        "compress_min_bytes",
        1_024,
        "bytes",
        "Smallest response body gzip-compressed for clients that accept gzip (0 = never compress).",
    ),
    Setting(
        "resource_cache_entries",
        2_048,
        "responses",
        "Rendered resource representations kept in memory per process (the data is read-only "
        "between builds); 0 disables the cache.",
    ),
    Setting(
        "page_cache_max_bytes",
        64 * 1024 * 1024,
        "bytes",
        "Most bytes of rendered representations kept by that cache per process; the least "
        "recently used are dropped first (0 disables the cache).",
    ),
    Setting(
        "cache_dir",
        "",
        "path",
        "Where caches are kept (empty = a directory beside dist_dir, named `<dist_dir>.cache`): "
        "builds/ holds each build's SPARQL results and rendered /doc/ files, shared by the "
        "serving processes (a new build gets its own directory, older ones are removed); "
        "validation/ holds the SHACL gate's results per source document by content hash. "
        "Safe to delete.",
    ),
    Setting(
        "sparql_cache_max_bytes",
        256 * 1024 * 1024,
        "bytes",
        "Most bytes of SPARQL answers kept on disk for the current build (complete answers "
        "only: never errors or truncated ones); the oldest are dropped first (0 disables it).",
    ),
    Setting(
        "sparql_cache_max_age_s",
        300,
        "seconds",
        "max-age of `Cache-Control` on SPARQL GET answers (they carry an ETag of the build "
        "and the request, and If-None-Match gets 304).",
    ),
    Setting(
        "response_cache_max_bytes",
        256 * 1024 * 1024,
        "bytes",
        "Most bytes of complete GET answers of /sparql and /doc/ kept on disk for the current "
        "build and replayed, before the app runs, to the same request (same URL and Accept, "
        "Accept-Language, Accept-Encoding headers); 0 disables the replay.",
    ),
    Setting(
        "replay_memory_max_bytes",
        32 * 1024 * 1024,
        "bytes",
        "Most bytes of the replayed answers (response_cache_max_bytes) also kept in each "
        "process's memory, the most recently replayed first, ready to send (0: every replay "
        "reads its file).",
    ),
    Setting(
        "sparql_fresh_path",
        True,
        "on/off",
        "Answer plain SPARQL GETs and POSTs (a query, any result format but the HTML page) "
        "before the web framework runs: the same checks, limits, bytes and headers, less CPU "
        "per query. Off: every request goes through the app.",
    ),
    Setting(
        "doc_cache_max_bytes",
        512 * 1024 * 1024,
        "bytes",
        "Most bytes of rendered /doc/ variants kept on disk for the current build and served "
        "as files (each rendered at most once while it fits; 0 disables it).",
    ),
    Setting(
        "doc_prerender",
        "first-request",
        "mode",
        "When /doc/ variants are rendered: `first-request` (each when first asked, then kept "
        "in the doc cache), `build` (every description in every format at build time, into "
        "dist/prerendered/, served as files from the first request), `auto` (`build` when the "
        "dataset describes at most `doc_prerender_max_resources` things, else `first-request`). "
        "Variants not rendered at build (other Accept-Language, a proxy's path prefix, serving "
        "with other rendering settings than the build's) render on first request.",
    ),
    Setting(
        "doc_prerender_max_resources",
        5_000,
        "resources",
        "With `doc_prerender` = `auto`: the most described things (/doc/ pages) a build "
        "pre-renders; a larger dataset renders on first request (the build renders about "
        "50-100 descriptions a second per format).",
    ),
    Setting(
        "html_max_rows",
        2_000,
        "statements",
        "Most statements listed on one HTML page (graph and ontology pages of a large dataset); "
        "the RDF variants and the dumps always hold everything.",
    ),
    Setting(
        "reload_check_ms",
        2_000,
        "ms",
        "How often a serving process checks dist/build.json and switches to a newly published "
        "build (0 = never: restart to serve a new build).",
    ),
    Setting(
        "sparql_time_limit_ms",
        10_000,
        "ms",
        "Wall-clock limit of one SPARQL query; the worker running it is killed at the limit.",
    ),
    Setting(
        "sparql_memory_limit_mb",
        2_048,
        "MiB",
        "Address-space limit of a SPARQL worker process; a query exceeding it is stopped.",
    ),
    Setting(
        "sparql_max_rows",
        10_000,
        "rows",
        "Most result rows (or triples) returned; more are cut and the cut is reported.",
    ),
    Setting(
        "sparql_max_query_length",
        1_048_576,
        "characters",
        "Longest query text accepted (a VALUES list of thousands of IRIs is normal); the "
        "pre-check that reads it before any worker is linear in its length.",
    ),
    Setting(
        "sparql_max_body_bytes",
        4_194_304,
        "bytes",
        "Largest POST body accepted by /sparql (chunked too; a larger one is refused with 413, "
        "never cut); room for a query of the longest length once percent-encoded in a form.",
    ),
    Setting(
        "sparql_max_query_tokens",
        200_000,
        "tokens",
        "Most tokens (names, IRIs, literals, punctuation) in a query; the pre-check stops "
        "reading at the limit, which bounds its work per request.",
    ),
    Setting(
        "sparql_max_nesting_depth",
        128,
        "levels",
        "Deepest nesting of (), {} and [] in a query; deeper is refused with 400 before it is "
        "parsed (the parser would overflow its stack).",
    ),
    Setting(
        "sparql_max_operators",
        2_000,
        "operators",
        "Most operators in a query (UNION, OPTIONAL, MINUS, BIND, FILTER, a group's {, the "
        "separators . and ;, and || && + - * / | !; VALUES data not counted); more is refused "
        "with 400 before any store sees it. Engines evaluate a chain of them recursively: 3,000 "
        "MINUS in a row crashed an Oxigraph server used as the remote store. 0: no limit.",
    ),
    Setting(
        "sparql_query_stack_mb",
        0,
        "MiB",
        "Stack of the thread that runs queries in each SPARQL worker (address space on top of "
        "sparql_memory_limit_mb, used only as deep as a query goes). 0: enough for the longest "
        "chain of UNION, OPTIONAL, MINUS, BIND or operators that sparql_max_query_tokens admits "
        "(298 MiB at 200,000 tokens); a smaller stack lets such a query crash its worker.",
    ),
    Setting(
        "sparql_max_response_bytes",
        33_554_432,
        "bytes",
        "Largest SPARQL result body; a larger result is cut (whole rows or triples) and the "
        "cut is reported, like sparql_max_rows.",
    ),
    Setting(
        "sparql_workers",
        2,
        "processes",
        "Query worker processes per web process: how many queries run at once.",
    ),
    Setting(
        "sparql_queue_timeout_ms",
        5_000,
        "ms",
        "How long a query waits for a free worker before it is refused with 503 (not counting "
        "the wait while a worker is starting: loading a dump takes seconds).",
    ),
    Setting(
        "sparql_reserved_workers",
        1,
        "processes",
        "Query workers per web process kept for short queries: used only while every general "
        "worker is busy, and only for sparql_reserved_time_limit_ms (0 = none).",
    ),
    Setting(
        "sparql_reserved_time_limit_ms",
        1_000,
        "ms",
        "Time limit of a query on a reserved worker (see sparql_reserved_workers); a query "
        "that needs longer is refused with 503 and may be sent again when workers are free.",
    ),
    Setting(
        "fragments_page_size",
        100,
        "quads",
        "Quads per page of /fragments (Triple and Quad Pattern Fragments).",
    ),
    Setting(
        "fragments_count_limit",
        10_000,
        "quads",
        "Matches of a fragment counted exactly; past it the count is an estimate from the "
        "build's statistics (said so in the page), so no request scans the whole store.",
    ),
    Setting(
        "search_max_limit",
        50,
        "hits",
        "Most hits /search returns for one query (its `limit` parameter; more is refused with "
        "400), and most candidates per query at /reconcile.",
    ),
    Setting(
        "reconcile_max_queries",
        100,
        "queries",
        "Most reconciliation queries in one /reconcile batch (OpenRefine sends 10 by default); "
        "more is refused with 400.",
    ),
)

_BY_NAME = {setting.name: setting for setting in SETTINGS}


def env_name(name: str) -> str:
    return "PUBLISHER_" + name.upper()


class Settings(Mapping[str, Any]):
    """Resolved settings; read as ``settings.base_uri`` or ``settings["base_uri"]``."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def replace(self, **overrides: Any) -> Settings:
        return load_settings(overrides, environ={}, defaults=self._values)

    def __repr__(self) -> str:
        return f"Settings({self._values!r})"


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Settings:
    """Defaults, then PUBLISHER_* environment variables, then explicit overrides (None = unset)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    if defaults:
        values.update(defaults)
    for setting in SETTINGS:
        if setting.env in environ:
            values[setting.name] = setting.coerce(environ[setting.env])
    for name, value in (overrides or {}).items():
        if name not in _BY_NAME:
            raise KeyError(f"unknown setting {name!r}; known: {', '.join(_BY_NAME)}")
        if value is not None:
            values[name] = _BY_NAME[name].coerce(value)
    base = str(values["base_uri"])
    values["base_uri"] = base if base.endswith(("/", "#")) else base + "/"
    return Settings(values)


def describe_setting(name: str) -> str:
    """'sparql_time_limit_ms (env PUBLISHER_SPARQL_TIME_LIMIT_MS, ms)' for error messages."""
    setting = _BY_NAME[name]
    return f"{setting.name} (env {setting.env}, {setting.unit})"


def settings_table_markdown() -> str:
    """The README's settings table, generated so it cannot drift from the code."""
    rows = ["| setting | environment | default | unit | meaning |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        rows.append(f"| `{s.name}` | `{s.env}` | `{s.default}` | {s.unit} | {s.help} |")
    return "\n".join(rows)
