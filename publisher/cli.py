"""The `publisher` command: thin wrappers over dataset/, store/ and web/.

Exit codes follow pySHACL's CLI: 0 success (conforms), 1 does not conform, 2 any other error.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
import pyoxigraph as ox

from publisher import formats
from publisher.dist import BUILD_INFO
from publisher.errors import PublisherError, ValidationFailed
from publisher.settings import Settings, load_settings


def _settings(**overrides: Any) -> Settings:
    return load_settings({k: v for k, v in overrides.items() if v is not None})


def _fail(error: PublisherError) -> None:
    click.echo(str(error), err=True)
    sys.exit(error.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Build, validate, query and serve a linked-data knowledge graph."""


@main.command()
@click.option("--base", "base_uri", help="Base IRI (env PUBLISHER_BASE_URI).")
@click.option("--data", "data_dir", type=click.Path(), help="Directory of RDF data files.")
@click.option("--ontology", "ontology_dir", type=click.Path(), help="Ontology directory.")
@click.option("--shapes", "shapes_dir", type=click.Path(), help="SHACL shapes directory.")
@click.option("--out", "dist_dir", type=click.Path(), help="Output directory (dist/).")
@click.option("--no-validate", is_flag=True, help="Skip the SHACL gate (data without shapes).")
@click.option(
    "--full",
    is_flag=True,
    help="Rebuild everything, even when only a few data files changed since the last build.",
)
def build(no_validate: bool, full: bool, **options: Any) -> None:
    """Load ontology + data, validate with the shapes, write dist/ atomically.

    When the previous build's manifest (in the cache directory) shows that only a few data
    files changed and nothing else did, the build is incremental: the previous store plus
    the changed files' delta, validated and written out as a full build would."""
    from publisher.dataset.pipeline import build_dataset
    from publisher.prerender import prerender_hook
    from publisher.progress import build_progress

    settings = _settings(**options)
    started = time.perf_counter()
    try:
        # Bars on stderr when it is a terminal; nothing in logs, pipes and tests.
        with build_progress() as progress:
            built = build_dataset(
                settings,
                check=not no_validate,
                progress=progress,
                full=full,
                before_swap=prerender_hook(settings),
            )
    except PublisherError as error:
        _fail(error)
    elapsed = time.perf_counter() - started
    info = built.info
    if built.changed_files is not None:
        changed = ", ".join(built.changed_files[:5]) + (
            " …" if len(built.changed_files) > 5 else ""
        )
        click.echo(f"Incremental: {len(built.changed_files)} changed file(s) ({changed}).")
    else:
        click.echo(f"Full build ({built.full_because}).")
    click.echo(
        f"Built {info.quads} quads ({info.triples} distinct triples) in {info.graphs} graphs "
        f"into {settings.dist_dir}/ in {elapsed:.2f} s (build {info.build_id})."
    )


@main.command()
@click.option("--base", "base_uri", help="Base IRI (env PUBLISHER_BASE_URI).")
@click.option("--data", "data_dir", type=click.Path(), help="Directory of RDF data files.")
@click.option("--ontology", "ontology_dir", type=click.Path(), help="Ontology directory.")
@click.option("--shapes", "shapes_dir", type=click.Path(), help="SHACL shapes directory.")
@click.option("--format", "report_format", type=click.Choice(["text", "turtle"]), default="text")
def validate(report_format: str, **options: Any) -> None:
    """Validate ontology + data against the shapes (exit 0 conforms, 1 does not, 2 error)."""
    from publisher.dataset.pipeline import validate as run_validate

    try:
        report = run_validate(_settings(**options))
    except PublisherError as error:
        _fail(error)
    # The report is the command's output (stdout, so `> report.txt` captures it) whether or
    # not the data conforms; the exit code says which. Errors of the tool go to stderr.
    output = report.turtle() if report_format == "turtle" else report.text()
    click.echo(output)
    # How much work the cache saved (a comment in Turtle, so the report still parses).
    click.echo(("# " if report_format == "turtle" else "") + report.counts())
    sys.exit(0 if report.conforms else ValidationFailed.exit_code)


@main.command(name="new-source")
@click.argument("text_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", required=True, help="The document's title, exactly as published.")
@click.option(
    "--publisher",
    required=True,
    help="Publisher: the slug of an organisation described in data/ "
    "(e.g. embassy-of-azerbaijan-brussels) or a new organisation's name.",
)
@click.option(
    "--issued", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD"
)
@click.option("--language", default="en", show_default=True, help="The text's language.")
@click.option("--slug", help="Slug of the document and its graph (default: title + date).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="File to write (new).")
@click.option("--data", "data_dir", type=click.Path(), help="Directory of RDF data files.")
@click.option("--base", "base_uri", help="Base IRI (env PUBLISHER_BASE_URI).")
def new_source(
    text_file: Path,
    title: str,
    publisher: str,
    issued: Any,
    language: str,
    slug: str | None,
    out: Path | None,
    **options: Any,
) -> None:
    """Write the skeleton of a new source file from the document's text (TEXT_FILE, UTF-8).

    The skeleton (default data/sources/<slug>.trig; never overwritten) holds the document with
    its verbatim text and the provenance of its graph, and passes `publisher validate` as it
    is; its statements section has commented examples to uncomment and fill in."""
    from publisher.dataset.skeleton import write_skeleton

    settings = _settings(**options)
    try:
        path = write_skeleton(
            text_file,
            title=title,
            publisher=publisher,
            issued=issued.date(),
            data_dir=Path(settings.data_dir),
            base=settings.base_uri,
            out=out,
            slug=slug,
            language=language,
        )
    except PublisherError as error:
        _fail(error)
    click.echo(f"Wrote {path}")
    click.echo(
        "Next: add the statements (uncomment an example in its statements section and replace "
        "every FILL-IN), then `publisher validate` and `publisher build`."
    )


@main.command()
@click.argument("sparql")
@click.option("--dist", "dist_dir", type=click.Path(), help="Built dist/ directory.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "xml", "csv", "tsv", "turtle", "ntriples"]),
    default="table",
)
def query(sparql: str, output_format: str, **options: Any) -> None:
    """Run a SPARQL query against the built store (default graph = union of graphs)."""
    from publisher.sparql.errors import QueryError
    from publisher.sparql.safety import significant_tokens
    from publisher.store.query_worker import configured_stack_mb, on_large_stack

    settings = _settings(**options)
    try:
        # The same pre-check as the endpoint: a query nested too deep, or a chain of
        # thousands of operators, is refused (exit 2) as the endpoint refuses it.
        significant_tokens(
            sparql,
            max_tokens=settings.sparql_max_query_tokens,
            max_depth=settings.sparql_max_nesting_depth,
            max_operators=settings.sparql_max_operators,
        )
    except QueryError as refused:
        click.echo(f"query refused: {refused.message}", err=True)
        sys.exit(2)
    # On a thread with the query workers' stack: a long chain of UNION, MINUS or BIND is not
    # nested, and overflowed the main thread's 8 MiB (SIGSEGV; store/query_worker.py).
    on_large_stack(
        lambda: _run_query(sparql, output_format, settings),
        stack_mb=configured_stack_mb(settings),
    )


def _run_query(sparql: str, output_format: str, settings: Settings) -> None:
    """`publisher query`'s evaluation and output (results are evaluated as they are read)."""
    from publisher.store import open_store

    try:
        # The built store on disk, whatever the serving setting `store` says.
        store = open_store(settings.replace(store="disk"), Path(settings.dist_dir))
        result = store.query(sparql)
    except PublisherError as error:
        _fail(error)
    except SyntaxError as error:
        click.echo(f"query syntax error: {error}", err=True)
        sys.exit(2)
    if isinstance(result, ox.QueryBoolean):
        click.echo(json.dumps({"boolean": bool(result)}) if output_format == "json" else result)
        return
    if isinstance(result, ox.QueryTriples):
        fmt = formats.by_name(output_format if output_format != "table" else "turtle")
        rdf = fmt.oxigraph if fmt and isinstance(fmt.oxigraph, ox.RdfFormat) else None
        rdf_format = rdf or ox.RdfFormat.TURTLE
        click.echo(ox.serialize(result, format=rdf_format).decode("utf-8"), nl=False)
        return
    if output_format == "table":
        click.echo(_table(result))
        return
    fmt = formats.by_name(output_format, formats.RESULT_FORMATS)
    assert fmt is not None and isinstance(fmt.oxigraph, ox.QueryResultsFormat)
    click.echo(result.serialize(format=fmt.oxigraph).decode("utf-8"), nl=False)


def _cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    """Literals by their value (a table is for reading), IRIs and blank nodes as in N-Triples."""
    if term is None:
        return ""
    return term.value if isinstance(term, ox.Literal) else str(term)


def _table(solutions: ox.QuerySolutions) -> str:
    names = [v.value for v in solutions.variables]
    rows = [[_cell(row[name]) for name in names] for row in solutions]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    line = " | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))
    body = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, "-+-".join("-" * w for w in widths), *body, f"({len(rows)} rows)"])


@main.command(name="settings")
@click.option("--markdown", is_flag=True, help="The README's table.")
def show_settings(markdown: bool) -> None:
    """List every setting: name, environment variable, current value, unit, help."""
    from publisher.settings import SETTINGS, settings_table_markdown

    if markdown:
        click.echo(settings_table_markdown())
        return
    current = load_settings()
    for setting in SETTINGS:
        click.echo(f"{setting.name} = {current[setting.name]!r}  ({setting.env}, {setting.unit})")
        click.echo(f"    {setting.help}")


@main.command()
@click.option(
    "--endpoint",
    required=True,
    help="Graph Store Protocol URL of the remote store (Oxigraph: http://HOST:PORT/store; "
    "Virtuoso: http://HOST:8890/sparql-graph-crud-auth with --user).",
)
@click.option("--dist", "dist_dir", type=click.Path(), help="Built dist/ directory.")
@click.option(
    "--union-graph",
    "store_union_graph",
    help="Named graph for the union default graph (env PUBLISHER_STORE_UNION_GRAPH; "
    "Virtuoso: urn:publisher:union). Serve with the same value.",
)
@click.option("--user", default="", help="Account for the store's authentication (Basic/Digest).")
@click.option(
    "--password",
    default="",
    envvar="PUBLISHER_STORE_PASSWORD",
    show_envvar=True,
    help="Password of --user (better from the environment than on the command line).",
)
def load(endpoint: str, user: str, password: str, **options: Any) -> None:
    """Push the built named graphs to a remote store (each graph replaced with PUT)."""
    from publisher.store.remote import push_graphs

    settings = _settings(**options)
    started = time.perf_counter()
    try:
        counts = push_graphs(
            Path(settings.dist_dir),
            endpoint=endpoint,
            union_graph=settings.store_union_graph,
            user=user,
            password=password,
        )
    except PublisherError as error:
        _fail(error)
    for graph, n in counts.items():
        click.echo(f"{n:>8} triples -> {graph or '(default graph)'}")
    click.echo(
        f"Loaded {sum(counts.values())} triples in {len(counts)} graphs into {endpoint} "
        f"in {time.perf_counter() - started:.1f} s."
    )


@main.command()
@click.option("--dist", "dist_dir", type=click.Path(), help="Built dist/ directory.")
@click.option("--host", help="Address to bind (default 127.0.0.1).")
@click.option("--port", type=int, help="Port to bind (default 8080).")
@click.option("--workers", type=int, help="Worker processes; 0 = development server.")
@click.option("--base", "base_uri", help="Base IRI the dist/ was built with.")
@click.option("--store", help="auto, disk, memory, or the URL of a remote SPARQL endpoint.")
@click.option(
    "--reload",
    "--dev",
    "reload",
    is_flag=True,
    help="Development mode: one process that restarts when the code, the templates or "
    "dist/build.json (a new build) change. Not for production.",
)
def serve(reload: bool, **options: Any) -> None:
    """Serve the built dataset: linked data, dumps and the SPARQL endpoint.

    With --workers N >= 1 (the default) gunicorn runs N worker processes; --workers 0 or
    --reload runs the single-process development server.
    """
    settings = _settings(**options)
    # The app factory reads PUBLISHER_* variables, so every process (gunicorn workers too)
    # sees the same settings.
    for name in ("dist_dir", "host", "port", "workers", "base_uri", "store"):
        os.environ[f"PUBLISHER_{name.upper()}"] = str(settings[name])
    dist = Path(settings.dist_dir)
    if not (dist / BUILD_INFO).is_file():
        _fail(PublisherError(f"{dist}/build.json not found: run `publisher build` first"))
    from publisher import create_app

    try:
        # Opens the build as every worker will (store, build.json, the files pages read): a
        # damaged dist/ is one line naming the file and exit 2, before any worker starts.
        app = create_app(settings)
    except PublisherError as error:
        _fail(error)
    if reload or settings.workers == 0:
        # Templates are re-read when they change; code changes and a new build (build.json is
        # rewritten by every build's swap) restart the process. The interactive debugger
        # stays off: it would execute code for anyone who can reach the port.
        app.config["TEMPLATES_AUTO_RELOAD"] = reload
        app.run(
            host=settings.host,
            port=settings.port,
            debug=False,
            use_reloader=reload,
            extra_files=[str(dist.resolve() / BUILD_INFO)] if reload else None,
            threaded=True,
        )
        return
    app.extensions["publisher"].current.store.close()
    os.execv(sys.executable, granian_command(settings))


def granian_command(settings: Settings) -> list[str]:
    """granian: a Rust HTTP front that reads and parses requests without holding a Python
    thread, so slow or idle connections (slowloris) cost no app capacity; complete requests
    go to `threads` threads in each of `workers` processes. The processes are spawned
    and build their own store handle and SPARQL worker pool, as under gunicorn. Measured
    against gunicorn gthread and gevent in README ("Serving"), bench/serving_stacks.py."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--factory",
        "--host",
        str(settings.host),
        "--port",
        str(settings.port),
        "--workers",
        str(settings.workers),
        "--blocking-threads",
        str(settings.threads),
        "--http",
        "1",
        "--no-ws",
        "--http1-header-read-timeout",
        # granian accepts 1..60000 ms
        str(min(max(int(settings.header_timeout_ms), 1), 60_000)),
        "--respawn-failed-workers",
        # The app writes the access log itself, in batches (publisher/web/access_log.py).
        "--no-access-log",
        "publisher:serving_app",
    ]
