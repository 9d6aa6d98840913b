"""The query page, the service description, and the protocol's own limits (in-process app)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import rdflib
from support import build_data_only, in_process_app, w3c_data_dir

from publisher.store.workers import shutdown_all

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
CQ = """# Question: Which things have a label, and what is it?
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX kg: <def/>
SELECT ?thing ?label WHERE { ?thing rdfs:label ?label } ORDER BY ?label LIMIT 5
"""


@pytest.fixture(scope="module")
def ontology_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ontology = tmp_path_factory.mktemp("ontology")
    (ontology / "cq").mkdir()
    (ontology / "cq" / "cq01-labels.rq").write_text(CQ, encoding="utf-8")
    return ontology


@pytest.fixture(scope="module")
def page_dist(tmp_path_factory: pytest.TempPathFactory, ontology_dir: Path) -> Path:
    """The W3C data built with `ontology_dir`: the build copies its cq/ into dist/, where the
    query page reads its examples (issue 7 #14: serving needs only dist/)."""
    data = w3c_data_dir(tmp_path_factory.mktemp("w3c-page-data"))
    return build_data_only(
        tmp_path_factory.mktemp("w3c-page") / "dist",
        base="http://www.example/",
        data_dir=data,
        ontology_dir=ontology_dir,
    )


@pytest.fixture(scope="module")
def client(page_dist: Path, ontology_dir: Path) -> Iterator:
    app = in_process_app(
        page_dist,
        ontology_dir=str(ontology_dir),
        sparql_max_query_length=2_000,
        sparql_max_body_bytes=4_000,
    )
    yield app.test_client()
    shutdown_all()


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")
        if tag in ("script", "img") and values.get("src"):
            self.assets.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.assets.append(values["href"] or "")


def links(html: str) -> Links:
    parser = Links()
    parser.feed(html)
    return parser


def test_query_page_for_browsers(client) -> None:
    response = client.get("/sparql", headers=BROWSER)
    assert response.status_code == 200
    html = response.data.decode()
    assert '<form class="sparql-editor" method="get"' in html
    assert "<textarea" in html and 'name="query"' in html
    # Prefixes filled in, in the editor.
    assert "PREFIX rdfs: &lt;http://www.w3.org/2000/01/rdf-schema#&gt;" in html
    # The competency question, with its relative prefix resolved against the base.
    assert "Which things have a label, and what is it?" in html
    assert "PREFIX kg: &lt;http://www.example/def/&gt;" in html
    assert "PREFIX rdfs: &lt;http://www.w3.org/2000/01/rdf-schema#&gt;" in html
    # No external assets: everything is served locally.
    assert all(a.startswith("/") for a in links(html).assets), links(html).assets


def test_the_page_carries_the_editor_and_its_settings(client) -> None:
    """The editor (YASGUI, vendored) and editor.js are served from here; its settings are a
    JSON data block: this endpoint, the dataset's prefixes, the examples by slug."""
    html = client.get("/sparql", headers=BROWSER).get_data(as_text=True)
    assets = links(html).assets
    for asset in ("/static/vendor/yasgui/yasgui.min.js", "/static/vendor/yasgui/yasgui.min.css"):
        assert asset in assets
        served = client.get(asset)
        assert served.status_code == 200 and len(served.data) > 10_000, asset
    assert "/static/editor.js" in assets
    found = re.search(r'<script type="application/json" id="editor-config">(.*?)</script>', html)
    assert found
    config = json.loads(found.group(1))
    assert config["endpoint"] == "/sparql"
    assert config["base"] == "http://www.example/"
    assert config["prefixes"]["kg"] == "http://www.example/def/"
    assert config["prefixes"]["graph"] == "http://www.example/graph/"
    assert "PREFIX kg: <http://www.example/def/>" in config["examples"]["cq01-labels"]
    assert 'data-example="cq01-labels"' in html


def test_the_vendored_editor_is_the_version_make_vendor_fetches() -> None:
    """VERSION (written by `make vendor`) names the version and integrity the Makefile pins."""
    root = Path(__file__).resolve().parent.parent
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    version = re.search(r"^YASGUI_VERSION\s*:=\s*(\S+)", makefile, re.MULTILINE)
    integrity = re.search(r"^YASGUI_INTEGRITY\s*:=\s*(\S+)", makefile, re.MULTILINE)
    assert version and integrity
    recorded = (root / "publisher/static/vendor/yasgui/VERSION").read_text().split()
    assert recorded == ["@zazuko/yasgui", version.group(1), integrity.group(1)]
    bundle = (root / "publisher/static/vendor/yasgui/yasgui.min.js").read_text(encoding="utf-8")
    assert "sourceMappingURL" not in bundle.splitlines()[-1]


def test_an_example_runs_with_one_click_and_renders_a_table(client) -> None:
    page = client.get("/sparql", headers=BROWSER).data.decode()
    example = next(h for h in links(page).hrefs if "query=" in h)  # the competency question
    response = client.get(example, headers=BROWSER)
    assert response.status_code == 200, response.data
    html = response.data.decode()
    assert '<th scope="col">?thing</th>' in html
    assert "Gerät" in html and "Widget" in html  # labels of the conformance data
    # A link to the same query in each format, each of which answers in that format.
    format_links = [h for h in links(html).hrefs if "format=" in h]
    assert {re.search(r"format=(\w+)", h).group(1) for h in format_links} == {  # type: ignore[union-attr]
        "json",
        "xml",
        "csv",
        "tsv",
    }
    answer = client.get(next(h for h in format_links if "format=json" in h))
    assert json.loads(answer.data)["head"]["vars"] == ["thing", "label"]


def test_results_link_iris_under_the_base_to_local_pages(client) -> None:
    query = (
        "SELECT ?local ?remote ?text WHERE { VALUES (?local ?remote ?text) "
        '{ (<http://www.example/id/place/somewhere> <http://example.org/x> "a <b> & c"@en) } }'
    )
    html = client.get("/sparql", query_string={"query": query}, headers=BROWSER).data.decode()
    hrefs = links(html).hrefs
    assert "/id/place/somewhere" in hrefs
    assert "http://example.org/x" in hrefs
    assert "a &lt;b&gt; &amp; c" in html  # escaped, with its language
    assert '<span class="term-note">@en</span>' in html


def test_boolean_and_graph_results_in_html(client) -> None:
    html = client.get("/sparql", query_string={"query": "ASK {}"}, headers=BROWSER).data.decode()
    assert "Yes (true)" in html
    construct = "CONSTRUCT { <urn:s> <urn:p> 'o' } WHERE {}"
    html = client.get("/sparql", query_string={"query": construct}, headers=BROWSER).data
    assert b"?subject" in html and b"urn:s" in html


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        (None, "turtle"),
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_service_description(client, accept: str | None, rdflib_format: str) -> None:
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.data, format=rdflib_format)
    service = rdflib.URIRef("http://www.example/sparql")
    assert (service, rdflib.RDF.type, SD.Service) in graph
    assert (service, SD.endpoint, service) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    assert len(list(graph.objects(service, SD.resultFormat))) == 10
    names = {str(n) for n in graph.objects(None, SD.name)}
    assert "http://kasei.us/2009/09/sparql/data/data1.rdf" in names
    assert "urn:x-conformance:formats" in names


def test_default_graph_is_the_union_and_graph_reaches_named_graphs(client) -> None:
    def ask(query: str, **extra: str) -> bool:
        answer = client.get("/sparql", query_string={"query": query, **extra})
        assert answer.status_code == 200, answer.data
        return json.loads(answer.data)["boolean"]

    data1 = "<http://kasei.us/2009/09/sparql/data/data1.rdf>"
    data2 = "<http://kasei.us/2009/09/sparql/data/data2.rdf>"
    assert ask(f"ASK {{ {data1} a ?t . {data2} a ?t }}")  # union default graph
    assert ask(f"ASK {{ GRAPH {data1} {{ {data1} a ?t }} }}")
    # FROM a graph of the dataset restricts the default graph to it.
    assert not ask(f"ASK FROM {data1} {{ {data2} a ?t }}")
    assert ask(f"ASK FROM {data1} {{ {data1} a ?t }}")


def test_protocol_limits_name_their_setting(client) -> None:
    long_query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 2_000
    response = client.get("/sparql", query_string={"query": long_query})
    assert response.status_code == 413
    assert response.get_json()["setting"] == "sparql_max_query_length"
    assert "PUBLISHER_SPARQL_MAX_QUERY_LENGTH" in response.get_json()["message"]
    response = client.post(
        "/sparql",
        data=("ASK {} #" + "x" * 5_000).encode(),
        headers={"Content-Type": "application/sparql-query"},
    )
    assert response.status_code == 413
    assert response.get_json()["setting"] == "sparql_max_body_bytes"


def test_protocol_errors(client) -> None:
    no_query = client.post("/sparql", data={"default-graph-uri": "http://www.example/g"})
    assert no_query.status_code == 400
    assert client.post("/sparql", data=b"ASK {}").status_code == 415  # no Content-Type
    response = client.get(
        "/sparql", query_string={"query": "ASK {}", "default-graph-uri": "not an iri"}
    )
    assert response.status_code == 400
    response = client.get("/sparql", query_string={"query": "ASK {"}, headers=BROWSER)
    assert response.status_code == 400 and b"<!doctype html>" in response.data.lower()
    response = client.options("/sparql")
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    response = client.get("/sparql", query_string={"query": "ASK {}"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
