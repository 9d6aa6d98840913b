"""/reconcile (publisher/web/reconcile.py) over real HTTP, as OpenRefine speaks it: every answer
validates against the Reconciliation Service API 0.2 JSON schemas (tests/fixtures/reconciliation),
and a spreadsheet column of place and organisation names in az/ru/en finds the right IRIs."""

from __future__ import annotations

import json

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from support import FIXTURES

SCHEMAS = FIXTURES / "reconciliation" / "0.2"
TIMEOUT = 30


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))


# The schemas refer to each other by their published URLs ("type.json"): resolve them here.
REGISTRY = Registry().with_resources(
    (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT7))
    for schema in (_schema(p.stem) for p in sorted(SCHEMAS.glob("*.json")))
)


def validate(name: str, instance: object) -> None:
    validator = Draft7Validator(_schema(name), registry=REGISTRY)
    errors = sorted(validator.iter_errors(instance), key=str)
    assert not errors, [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


@pytest.fixture(scope="module")
def service(live_server) -> str:
    return live_server.url + "/reconcile"


def reconcile(service: str, queries: dict) -> dict:
    """A batch as OpenRefine sends it: POST, form field `queries` holding JSON."""
    validate("reconciliation-query-batch", queries)
    response = requests.post(
        service, data={"queries": json.dumps(queries, ensure_ascii=False)}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    answer = response.json()
    validate("reconciliation-result-batch", answer)
    assert set(answer) == set(queries)
    return answer


def test_manifest(service: str, live_server, seed_base: str) -> None:
    response = requests.get(service, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    manifest = response.json()
    validate("manifest", manifest)
    assert "0.2" in manifest["versions"]
    assert manifest["identifierSpace"] == seed_base + "id/"
    assert manifest["schemaSpace"] == seed_base + "def/"
    assert manifest["view"]["url"] == seed_base + "id/{{id}}"
    types = {t["id"]: t["name"] for t in manifest["defaultTypes"]}
    assert types["schema:Place"] == "Place"
    assert types["org:Organization"] == "Organization"
    assert types["schema:Event"] == "Event"
    # The services the manifest names answer, where the client reached this server.
    preview = manifest["preview"]["url"].replace("{{id}}", "place/khojaly")
    assert requests.get(preview, timeout=TIMEOUT).status_code == 200
    for kind, spec in manifest["suggest"].items():
        assert spec["service_url"] == live_server.url
        url = spec["service_url"] + spec["service_path"]
        assert requests.get(url, params={"prefix": "a"}, timeout=TIMEOUT).status_code == 200, kind


# A spreadsheet column as people type it: each language's spelling, any case, alternatives.
COLUMN = [
    ("Xocalı", "place/khojaly"),
    ("Ходжалы", "place/khojaly"),
    ("khojaly", "place/khojaly"),
    ("Khojaly", "place/khojaly"),
    ("XOCALI", "place/khojaly"),
    ("Khodjaly", "place/khojaly"),
    ("Azərbaycan", "place/azerbaijan"),
    ("Азербайджан", "place/azerbaijan"),
    ("Republic of Azerbaijan", "place/azerbaijan"),
    ("Ermənistan", "place/armenia"),
    ("USA", "place/united-states"),
    ("Соединённые Штаты Америки", "place/united-states"),
    ("Bruxelles", "place/brussels"),
    ("Armenian armed forces", "organisation/armenian-armed-forces"),
    ("366th Motorized Rifle Regiment", "organisation/366th-motorized-rifle-regiment"),
    (
        "Embassy of the Republic of Azerbaijan in Brussels",
        "organisation/embassy-of-azerbaijan-brussels",
    ),
]


def test_a_column_of_names_finds_the_right_iris(service: str, seed_base: str) -> None:
    queries = {f"q{i}": {"query": name} for i, (name, _) in enumerate(COLUMN)}
    answer = reconcile(service, queries)
    for i, (name, expected) in enumerate(COLUMN):
        candidates = answer[f"q{i}"]["result"]
        best = candidates[0]
        assert best["id"] == expected, (name, candidates[:2])
        assert best["match"] is True, name
        assert best["score"] == max(c["score"] for c in candidates) and best["score"] >= 90
        assert sum(c["match"] for c in candidates) == 1
        # identifierSpace + id is the IRI, which dereferences.
        page = requests.get(seed_base + "id/" + best["id"], timeout=TIMEOUT)
        assert page.status_code == 200


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("Xocalı", "schema:Place", "place/khojaly"),
        ("Xocalı", ["schema:City", "schema:Event"], "place/khojaly"),
        ("khojaly", "https://schema.org/Event", "event/khojaly-massacre"),
        ("366th", "org:Organization", "organisation/366th-motorized-rifle-regiment"),
    ],
)
def test_queries_by_type(service: str, name: str, kind: object, expected: str) -> None:
    answer = reconcile(service, {"q": {"query": name, "type": kind, "limit": 3}})
    candidates = answer["q"]["result"]
    assert candidates[0]["id"] == expected
    assert len(candidates) <= 3
    wanted = {kind} if isinstance(kind, str) else set(kind)
    for candidate in candidates:
        types = {t["id"] for t in candidate["type"]}
        full = {t.replace("schema:", "https://schema.org/") for t in types}
        assert (types | full) & wanted


def test_the_wrong_type_finds_nothing(service: str) -> None:
    answer = reconcile(service, {"q": {"query": "Xocalı", "type": "org:Organization"}})
    assert answer["q"]["result"] == []


def test_match_only_when_exact(service: str) -> None:
    answer = reconcile(
        service,
        {"prefix": {"query": "Khoj"}, "word": {"query": "massacre"}, "none": {"query": "zzqx"}},
    )
    assert answer["prefix"]["result"] and not any(c["match"] for c in answer["prefix"]["result"])
    assert not any(c["match"] for c in answer["word"]["result"])
    assert answer["none"]["result"] == []
    # A source's own name for the event is a candidate, but never a certain match: it is
    # that source's characterisation, not the event's name.
    named = reconcile(service, {"q": {"query": "Khojaly genocide"}})["q"]["result"]
    assert named[0]["id"] == "event/khojaly-massacre" and named[0]["match"] is False


def test_properties_refine_the_score(service: str) -> None:
    embassy = "Embassy of the Republic of Azerbaijan"
    answer = reconcile(
        service,
        {
            "by_label": {
                "query": embassy,
                "properties": [{"pid": "schema:location", "v": "Bruxelles"}],
            },
            "by_id": {
                "query": embassy,
                "properties": [
                    {"pid": "https://schema.org/location", "v": {"id": "place/brussels"}}
                ],
            },
            "wrong": {"query": embassy, "properties": [{"pid": "schema:location", "v": "Baku"}]},
            "not_an_iri": {"query": embassy, "properties": [{"pid": "http://a b<>", "v": "x"}]},
        },
    )
    right = answer["by_label"]["result"][0]
    assert right["id"] == "organisation/embassy-of-azerbaijan-brussels"
    assert {"id": "properties", "value": 1.0} in right["features"]
    assert answer["by_id"]["result"][0]["score"] == right["score"]
    wrong = answer["wrong"]["result"][0]
    assert wrong["score"] < right["score"]
    assert {"id": "properties", "value": 0.0} in wrong["features"]
    assert answer["not_an_iri"]["result"][0]["score"] == wrong["score"]


def test_get_with_queries_works_too(service: str) -> None:
    queries = json.dumps({"q0": {"query": "Ходжалы"}}, ensure_ascii=False)
    response = requests.get(service, params={"queries": queries}, timeout=TIMEOUT)
    assert response.status_code == 200
    validate("reconciliation-result-batch", response.json())
    assert response.json()["q0"]["result"][0]["id"] == "place/khojaly"


SUGGEST_SCHEMAS = {
    "entity": "suggest-entities-response",
    "type": "suggest-types-response",
    "property": "suggest-properties-response",
}


@pytest.mark.parametrize(
    ("kind", "prefix", "expected"),
    [
        ("entity", "xoc", "place/khojaly"),
        ("entity", "ходж", "place/khojaly"),
        ("entity", "place/khojaly", None),
        ("type", "pla", "schema:Place"),
        ("type", "org", "org:Organization"),
        ("property", "loc", "schema:location"),
    ],
)
def test_suggest(service: str, kind: str, prefix: str, expected: str | None) -> None:
    response = requests.get(f"{service}/suggest/{kind}", params={"prefix": prefix}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    answer = response.json()
    validate(SUGGEST_SCHEMAS[kind], answer)
    ids = [r["id"] for r in answer["result"]]
    if expected is not None:
        assert expected in ids, ids
        if kind == "entity":
            assert ids[0] == expected


def test_suggest_pages_with_the_cursor(service: str) -> None:
    first = requests.get(f"{service}/suggest/entity", params={"prefix": "k"}, timeout=TIMEOUT)
    second = requests.get(
        f"{service}/suggest/entity", params={"prefix": "k", "cursor": "2"}, timeout=TIMEOUT
    )
    skipped_two = [r["id"] for r in first.json()["result"]][2:]
    assert skipped_two and [r["id"] for r in second.json()["result"]][: len(skipped_two)] == (
        skipped_two
    )


def test_preview(service: str) -> None:
    response = requests.get(f"{service}/preview", params={"id": "place/khojaly"}, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    # Clients show it in an iframe: framing is allowed, scripts are not.
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in policy and "script-src" not in policy
    assert "default-src 'none'" in policy
    text = response.text
    assert "Khojaly" in text and 'lang="az">Xocalı<' in text and 'lang="ru">Ходжалы<' in text
    missing = requests.get(f"{service}/preview", params={"id": "place/nowhere"}, timeout=TIMEOUT)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("method", "params", "named"),
    [
        ("post", {"queries": "{not json"}, "queries"),
        ("post", {"queries": "[1, 2]"}, "queries"),
        ("post", {"queries": json.dumps({"q": "Xocalı"})}, "queries"),
        ("post", {"queries": json.dumps({"q": {"query": 5}})}, "queries"),
        ("post", {"queries": json.dumps({"q": {"query": "x" * 201}})}, "queries"),
        ("post", {"queries": json.dumps({f"q{i}": {"query": "a"} for i in range(101)})}, "queries"),
        ("post", {"queries": '{"q": {"query": "a", "limit": Infinity}}'}, "queries"),
        ("post", {"queries": '{"q": {"query": "a", "limit": -1}}'}, "queries"),
        ("post", {}, "queries"),
        ("get", {"queries": "{"}, "queries"),
        # json's decoder recurses per level: RecursionError, a 500, before it was caught.
        ("post", {"queries": "[" * 100_000 + "]" * 100_000}, "queries"),
        (
            "post",
            {"queries": '{"q": {"query": "a", "properties": ' + "[" * 100_000 + "}}"},
            "queries",
        ),
    ],
)
def test_bad_batches_are_400(service: str, method: str, params: dict, named: str) -> None:
    if method == "post":
        response = requests.post(service, data=params, timeout=TIMEOUT)
    else:
        response = requests.get(service, params=params, timeout=TIMEOUT)
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith(named + ":")


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/suggest/entity", {}, "prefix"),
        ("/suggest/type", {"prefix": "a", "cursor": "-1"}, "cursor"),
        ("/suggest/property", {"prefix": "a" * 201}, "prefix"),
        ("/preview", {}, "id"),
    ],
)
def test_bad_suggest_and_preview_requests_are_400(
    service: str, path: str, params: dict, named: str
) -> None:
    response = requests.get(service + path, params=params, timeout=TIMEOUT)
    assert response.status_code == 400
    assert response.json()["message"].startswith(named + ":")


@pytest.mark.parametrize(
    "query", ['"', "*", "NEAR(a b)", "a AND b", "(((", "'; DROP TABLE name; --", "😀", ""]
)
def test_hostile_names_are_text(service: str, query: str) -> None:
    answer = reconcile(service, {"q": {"query": query, "type": query or "x"}})
    assert isinstance(answer["q"]["result"], list)


def test_vendored_schemas_are_the_published_ones() -> None:
    readme = (SCHEMAS.parent / "README.md").read_text(encoding="utf-8")
    assert "8d66bdba2e351a890a1126f2a8f139c9afd47553" in readme
    for path in SCHEMAS.glob("*.json"):
        assert _schema(path.stem)["$id"].startswith(
            "https://reconciliation-api.github.io/specs/0.2/schemas/"
        ), path


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)
QUERY_OBJECTS = st.fixed_dictionaries(
    {},
    optional={
        "query": st.one_of(st.text(max_size=30), JSON_VALUES),
        "type": JSON_VALUES,
        "limit": JSON_VALUES,
        "properties": st.one_of(
            st.lists(st.fixed_dictionaries({"pid": st.text(max_size=20), "v": JSON_VALUES})),
            JSON_VALUES,
        ),
        "type_strict": st.sampled_from(["any", "should", "all"]),
    },
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    batch=st.one_of(st.dictionaries(st.text(max_size=6), QUERY_OBJECTS, max_size=4), JSON_VALUES)
)
def test_any_batch_is_answered_or_refused_by_name(app, batch: object) -> None:
    """In process (the same app): whatever JSON arrives, a valid answer or a 400 naming
    `queries`, never a 500."""
    response = app.test_client().post("/reconcile", data={"queries": json.dumps(batch)})
    assert response.status_code in (200, 400), response.data[:300]
    if response.status_code == 200:
        validate("reconciliation-result-batch", response.get_json())
    else:
        assert response.get_json()["message"].startswith("queries:")
