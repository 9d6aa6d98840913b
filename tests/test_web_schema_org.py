"""schema.org JSON-LD (web/schema_org.py) and "cite this dataset".

The blocks must be valid JSON, expand as JSON-LD (pyld, offline: the schema.org context is
given by a local loader with the published context's @vocab, so no request leaves), say what
the data says (distributions = the dumps of /dataset, version = the build id) and survive
labels that hold "</script>".
"""

from __future__ import annotations

import json
import re

import pytest
import rdflib
from html_checks import check_html
from page_parsing import json_ld_blocks
from pages_support import HOSTILE, PUBLISHER, SECOND_DATE
from pyld import jsonld

SCHEMA = "http://schema.org/"  # the @vocab of https://schema.org's published context
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")


def schema_org_context(url: str, options: dict | None = None) -> dict:
    assert url.rstrip("/") in ("https://schema.org", "http://schema.org"), url
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": {"@context": {"@vocab": SCHEMA}},
    }


def expand(node: object) -> list[dict]:
    return jsonld.expand(node, {"documentLoader": schema_org_context})


def schema_org_block(text: str) -> dict:
    (node,) = [value for cls, value in json_ld_blocks(text) if cls == "schema-org"]
    assert isinstance(node, dict)
    return node


def page(client, path: str) -> str:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200, path
    text = response.get_data(as_text=True)
    check_html(text)
    return text


@pytest.fixture(scope="module")
def home(two_sources_app) -> str:
    return page(two_sources_app.test_client(), "/")


def test_home_page_has_a_dataset_that_expands(home: str, two_sources_client) -> None:
    dataset = schema_org_block(home)
    info = two_sources_client.application.extensions["publisher"].current.info
    assert dataset["@type"] == "Dataset"
    assert dataset["version"] == info.build_id
    assert dataset["dateModified"] == info.built_at
    assert dataset["url"] == info.base
    assert dataset["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert dataset["isAccessibleForFree"] is True
    assert 50 <= len(dataset["description"]) <= 5000
    assert dataset["creator"]["name"] and dataset["publisher"]["name"]
    assert "Khojaly massacre" in dataset["keywords"]
    assert dataset["temporalCoverage"] == f"1992-02-25/{SECOND_DATE}"
    (place,) = dataset["spatialCoverage"]
    assert place["name"] == "Khojaly" and place["geo"]["latitude"] == pytest.approx(39.91111)
    assert dataset["subjectOf"]["url"] == info.base + "sparql"
    (expanded,) = expand(dataset)
    assert expanded["@type"] == [SCHEMA + "Dataset"]
    assert expanded[SCHEMA + "version"][0]["@value"] == info.build_id


def test_distributions_are_the_dumps_of_the_dataset_description(home: str, two_sources_client):
    dataset = schema_org_block(home)
    described = rdflib.Graph().parse(
        data=two_sources_client.get("/dataset.ttl").data, format="turtle"
    )
    downloads = {str(url) for url in described.objects(None, DCAT.downloadURL)}
    given = {d["contentUrl"]: d["encodingFormat"] for d in dataset["distribution"]}
    assert set(given) == downloads
    assert given[dataset["url"] + "dumps/dataset.nq.gz"] == "application/n-quads"
    base = dataset["url"]
    for url in given:
        assert two_sources_client.get(url.removeprefix(base.rstrip("/"))).status_code == 200


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/doc/event/khojaly-massacre", "Event"),
        ("/doc/place/azerbaijan", "Country"),
        ("/doc/organisation/embassy-of-azerbaijan-brussels", "GovernmentOrganization"),
        ("/doc/document/press-release-2023-02-26", "Article"),
        ("/doc/count/press-release-2023-02-26-killed", "Claim"),
    ],
)
def test_resource_pages_have_a_schema_org_node(two_sources_client, path: str, kind: str) -> None:
    node = schema_org_block(page(two_sources_client, path))
    assert node["@type"] == kind
    assert node["url"] == node["@id"] and node["@id"].endswith(path.removeprefix("/doc/"))
    (expanded,) = expand(node)
    assert expanded["@type"] == [SCHEMA + kind]
    assert expanded[SCHEMA + "name"]


def test_same_as_only_from_identity_links_and_no_source_term_as_a_name(two_sources_client):
    country = schema_org_block(page(two_sources_client, "/doc/place/azerbaijan"))
    assert "http://www.wikidata.org/entity/Q227" in country["sameAs"]
    event = schema_org_block(page(two_sources_client, "/doc/event/khojaly-massacre"))
    # skos:closeMatch to DBpedia is not identity; "Khojaly genocide" is the source's term.
    assert "sameAs" not in event
    assert "genocide" not in json.dumps(event).lower()
    assert event["name"] == {"@value": "Khojaly massacre", "@language": "en"}
    assert event["startDate"] == "1992-02-25" and event["endDate"] == "1992-02-26"


def test_labels_cannot_close_the_script_element(two_sources_client) -> None:
    for path, name in [
        ("/doc/organisation/synthetic-publisher", PUBLISHER),
        ("/doc/document/synthetic-report-2024", HOSTILE),
    ]:
        text = page(two_sources_client, path)
        for script in re.findall(r"<script[^>]*>(.*?)</script>", text, re.S):
            assert "<" not in script and ">" not in script
        node = schema_org_block(text)
        assert node["name"]["@value"] == name  # the very string, after JSON decoding


def test_cite_this_dataset_names_the_version_and_date(home: str, two_sources_client) -> None:
    info = two_sources_client.application.extensions["publisher"].current.info
    built = info.built_at[:10]
    citation = re.search(r'<blockquote class="citation"><p>(.*?)</p>', home, re.S)
    assert citation is not None
    assert info.build_id in citation.group(1) and built in citation.group(1)
    bibtex = re.search(r"<summary>BibTeX</summary><pre><code>(.*?)</code>", home, re.S)
    assert bibtex is not None and f"version      = {{{info.build_id}}}" in bibtex.group(1)
    csl = re.search(r"<summary>CSL-JSON</summary><pre><code>(.*?)</code>", home, re.S)
    assert csl is not None
    item = json.loads(csl.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    assert item["version"] == info.build_id and item["type"] == "dataset"
    assert item["issued"]["date-parts"] == [[int(p) for p in built.split("-")]]
    dataset_page = page(two_sources_client, "/dataset")
    assert "Cite this dataset" in dataset_page and info.build_id in dataset_page
