"""The W3C SPARQL 1.1 Protocol tests, read from the vendored manifest, against a real server.

The manifest addresses the endpoint as ``/sparql/`` on host www.example; the conformance
dataset is built with base http://www.example/ and served by ``publisher serve`` in a
subprocess, so each test is the manifest's HTTP request sent to that server. The endpoint is
read-only: every update test becomes "the update is refused with 4xx and nothing changed".
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import rdflib
import requests
from rdf_checks import RDFLIB_FORMATS
from rdflib.collection import Collection
from rdflib.namespace import RDF
from sparql_helpers import SparqlServer
from support import W3C

from publisher import formats

MANIFEST = W3C / "protocol" / "manifest.ttl"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")
SPARQL_RESULTS = "{http://www.w3.org/2005/sparql-results#}"


@dataclass
class ProtocolRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[str]  # "2xx", "3xx", "4xx"...
    expected_format: str | None
    expected_boolean: bool | None


@dataclass
class ProtocolTest:
    name: str
    requests: list[ProtocolRequest] = field(default_factory=list)

    @property
    def is_update(self) -> bool:
        return "update" in self.name


def _requests_of(graph: rdflib.Graph, test: rdflib.term.Node) -> Iterator[ProtocolRequest]:
    action = graph.value(test, MF.action)
    for request in Collection(graph, graph.value(action, HT.requests)):
        headers = {}
        header_list = graph.value(request, HT.headers)
        if header_list is not None:
            for header in Collection(graph, header_list):
                headers[str(graph.value(header, HT.fieldName))] = str(
                    graph.value(header, HT.fieldValue)
                )
        body = None
        body_node = graph.value(request, HT.body)
        if body_node is not None:
            encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
            body = str(graph.value(body_node, CNT.chars)).encode(encoding)
        response = graph.value(request, HT.resp)
        statuses = {
            str(code).rsplit("StatusCode", 1)[-1]
            for code in graph.objects(response, MF.expectedStatus)
        }
        expected_format = graph.value(response, MF.expectedFormat)
        expected_boolean = graph.value(response, MF.expectedBoolean)
        yield ProtocolRequest(
            method=str(graph.value(request, HT.methodName)),
            path=str(graph.value(request, HT.absolutePath)),
            headers=headers,
            body=body,
            statuses=statuses,
            expected_format=str(expected_format) if expected_format is not None else None,
            expected_boolean=expected_boolean.toPython() if expected_boolean is not None else None,
        )


def load_manifest() -> list[ProtocolTest]:
    graph = rdflib.Graph()
    graph.parse(MANIFEST, format="turtle", publicID=MANIFEST.as_uri())
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    tests = []
    for test in Collection(graph, graph.value(manifest, MF.entries)):
        name = str(test).rsplit("#", 1)[-1]
        tests.append(ProtocolTest(name, list(_requests_of(graph, test))))
    return tests


TESTS = load_manifest()
QUERY_TESTS = [t for t in TESTS if not t.is_update]
UPDATE_TESTS = [t for t in TESTS if t.is_update]


@pytest.fixture(scope="module")
def server(conformance_dist: Path) -> Iterator[SparqlServer]:
    process = SparqlServer(conformance_dist, workers=2)
    yield process
    process.stop()


def send(server: SparqlServer, request: ProtocolRequest) -> requests.Response:
    # The manifest's host is www.example and its path starts with /sparql/: same path here.
    assert request.path.startswith("/sparql/")
    return requests.request(
        request.method,
        server.url + request.path,
        headers={"Host": "www.example", **request.headers},
        data=request.body,
        timeout=30,
    )


def status_class(response: requests.Response) -> str:
    return f"{response.status_code // 100}xx"


def boolean_of(response: requests.Response) -> bool:
    media_type = response.headers["Content-Type"].split(";")[0]
    if media_type == formats.SPARQL_JSON.media_type:
        return json.loads(response.content)["boolean"]
    assert media_type == formats.SPARQL_XML.media_type, media_type
    element = ET.fromstring(response.content).find(SPARQL_RESULTS + "boolean")
    assert element is not None
    return element.text == "true"


def check_format(response: requests.Response, expected: str) -> None:
    media_type = response.headers["Content-Type"].split(";")[0]
    if expected == "boolean":
        assert media_type in (formats.SPARQL_JSON.media_type, formats.SPARQL_XML.media_type)
        boolean_of(response)
    elif expected == "tabular":
        fmt = formats.by_name(media_type, formats.RESULT_FORMATS)
        assert fmt is not None, media_type
        parsed = rdflib.query.Result.parse(source=io.BytesIO(response.content), format=fmt.name)
        assert parsed.type == "SELECT"
    else:
        assert expected == "RDF"
        fmt = formats.by_name(media_type, formats.RDF_FORMATS)
        assert fmt is not None, media_type
        rdflib.Dataset().parse(data=response.content, format=RDFLIB_FORMATS[fmt.name])


def test_manifest_has_every_read_only_case() -> None:
    names = {t.name for t in TESTS}
    wanted = {
        "query_get",
        "query_post_form",
        "query_post_direct",
        "query_dataset_default_graphs_get",
        "query_dataset_default_graphs_post",
        "query_dataset_named_graphs_get",
        "query_dataset_named_graphs_post",
        "query_dataset_full",
        "query_multiple_dataset",
        "query_content_type_select",
        "query_content_type_ask",
        "query_content_type_describe",
        "query_content_type_construct",
        "bad_query_method",
        "bad_multiple_queries",
        "bad_query_wrong_media_type",
        "bad_query_missing_form_type",
        "bad_query_missing_direct_type",
        "bad_query_non_utf8",
        "bad_query_syntax",
        "bad_update_get",
    }
    assert wanted <= names
    assert {t.name for t in QUERY_TESTS} | {"bad_update_get"} >= wanted


@pytest.mark.parametrize("test", QUERY_TESTS, ids=[t.name for t in QUERY_TESTS])
def test_w3c_query_case(server: SparqlServer, test: ProtocolTest) -> None:
    for request in test.requests:
        response = send(server, request)
        assert status_class(response) in request.statuses, (response.status_code, response.text)
        if status_class(response) == "4xx":
            # Machines get a JSON error that says what was wrong.
            problem = response.json()
            assert problem["status"] == response.status_code and problem["message"]
            continue
        if request.expected_format:
            check_format(response, request.expected_format)
        if request.expected_boolean is not None:
            assert boolean_of(response) is request.expected_boolean


def fingerprint(server: SparqlServer) -> dict[str, int]:
    answer = requests.get(
        server.url + "/sparql",
        params={"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
        headers={"Accept": formats.SPARQL_JSON.media_type},
        timeout=30,
    )
    answer.raise_for_status()
    return {b["g"]["value"]: int(b["n"]["value"]) for b in answer.json()["results"]["bindings"]}


@pytest.mark.parametrize("test", UPDATE_TESTS, ids=[t.name for t in UPDATE_TESTS])
def test_w3c_update_case_is_refused_and_changes_nothing(
    server: SparqlServer, test: ProtocolTest
) -> None:
    before = fingerprint(server)
    update, *checks = test.requests
    response = send(server, update)
    assert status_class(response) == "4xx", (response.status_code, response.text)
    assert response.json()["message"]
    assert fingerprint(server) == before
    for check in checks:
        # The manifest's follow-up ASK expects the update's effect: here it must be absent.
        answer = send(server, check)
        assert status_class(answer) == "2xx", answer.text
        assert boolean_of(answer) is False


def test_syntax_error_carries_the_parser_message(server: SparqlServer) -> None:
    response = requests.get(server.url + "/sparql", params={"query": "ASK {"}, timeout=30)
    assert response.status_code == 400
    assert "error at 1:" in response.json()["message"]


def test_update_string_in_query_parameter_is_refused(server: SparqlServer) -> None:
    before = fingerprint(server)
    url = server.url + "/sparql"
    for text in ("CLEAR ALL", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "DROP SILENT ALL"):
        for response in (
            requests.get(url, params={"query": text}, timeout=30),
            requests.post(url, data={"query": text}, timeout=30),
            requests.post(
                url,
                data=text.encode(),
                headers={"Content-Type": "application/sparql-query"},
                timeout=30,
            ),
        ):
            assert response.status_code == 403, response.text
            assert "read-only" in response.json()["message"]
    assert fingerprint(server) == before
