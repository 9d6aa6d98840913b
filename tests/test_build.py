"""The build: dumps equal the store, checksums match, failures leave dist/ untouched."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdf_checks import RDFLIB_FORMATS, union
from rdflib.compare import isomorphic
from support import ROOT, build_dist

from publisher import formats

SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")


def store_as_rdflib(dist: Path) -> rdflib.Dataset:
    store = ox.Store.read_only(str(dist / "store"))
    dataset = rdflib.Dataset()
    dataset.parse(data=store.dump(format=ox.RdfFormat.N_QUADS), format="nquads")
    return dataset


def named_graphs(dataset: rdflib.Dataset) -> dict[str, rdflib.Graph]:
    graphs: dict[str, rdflib.Graph] = {}
    for s, p, o, g in dataset.quads((None, None, None, None)):
        graphs.setdefault(str(g), rdflib.Graph()).add((s, p, o))
    return graphs


@pytest.mark.parametrize("fmt", formats.DUMP_FORMATS, ids=lambda f: f.name)
def test_every_dump_parses_to_the_store_content(seed_dist: Path, fmt: formats.Format) -> None:
    expected = store_as_rdflib(seed_dist)
    data = gzip.decompress((seed_dist / formats.dump_name(fmt)).read_bytes())
    if fmt.supports_datasets:
        parsed = rdflib.Dataset()
        parsed.parse(data=data, format=RDFLIB_FORMATS[fmt.name])
        got, want = named_graphs(parsed), named_graphs(expected)
        assert sorted(got) == sorted(want)
        for name, graph in want.items():
            assert isomorphic(got[name], graph), f"graph {name} differs in {fmt.name}"
    else:
        parsed = rdflib.Graph()
        parsed.parse(data=data, format=RDFLIB_FORMATS[fmt.name])
        assert isomorphic(parsed, union(expected)), f"{fmt.name} dump differs from the store"


def test_dumps_use_absolute_iris_under_the_base(seed_dist: Path, seed_base: str) -> None:
    data = gzip.decompress((seed_dist / "dataset.nq.gz").read_bytes())
    # Parsing without a base fails on any relative IRI.
    quads = list(ox.parse(data, format=ox.RdfFormat.N_QUADS))
    iris = {t.value for q in quads for t in q if isinstance(t, ox.NamedNode)}
    assert all(iri.split(":", 1)[0] in {"http", "https", "urn", "mailto"} for iri in iris)
    assert any(iri.startswith(seed_base + "id/") for iri in iris)
    graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    assert graphs >= {seed_base + "graph/provenance"}


def test_checksums_match_the_files(seed_dist: Path) -> None:
    sums = {}
    for line in (seed_dist / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        sums[name] = digest
    published = {p.name for p in seed_dist.iterdir() if p.is_file()} - {"SHA256SUMS"}
    assert set(sums) == published
    for name, digest in sums.items():
        assert hashlib.sha256((seed_dist / name).read_bytes()).hexdigest() == digest, name

    void = rdflib.Graph().parse(seed_dist / "void.ttl", format="turtle")
    distributions = list(void.subjects(rdflib.RDF.type, DCAT.Distribution))
    assert distributions, "void.ttl lists no distribution"
    for distribution in distributions:
        name = str(distribution).rsplit("/", 1)[-1]
        checksum = void.value(void.value(distribution, SPDX.checksum), SPDX.checksumValue)
        size = int(void.value(distribution, DCAT.byteSize))
        if name not in sums:  # a plain dump name (dataset.ttl): served from the .gz file
            decoded = gzip.decompress((seed_dist / (name + ".gz")).read_bytes())
            assert (str(checksum), size) == (hashlib.sha256(decoded).hexdigest(), len(decoded))
            continue
        assert str(checksum) == sums[name]
        assert size == (seed_dist / name).stat().st_size
    # Every dump is advertised.
    advertised = {str(d).rsplit("/", 1)[-1] for d in distributions}
    assert {formats.dump_name(f) for f in formats.DUMP_FORMATS} <= advertised


def test_void_statistics_describe_the_store(seed_dist: Path, seed_base: str) -> None:
    void = rdflib.Graph().parse(seed_dist / "void.ttl", format="turtle")
    dataset = rdflib.URIRef(seed_base + "dataset")
    triples = union(store_as_rdflib(seed_dist))
    assert int(void.value(dataset, VOID.triples)) == len(triples)
    classes = {str(o) for o in triples.objects(None, rdflib.RDF.type)}
    partitions = {
        str(void.value(p, VOID["class"])) for p in void.objects(dataset, VOID.classPartition)
    }
    assert partitions == classes
    by_property = [
        int(void.value(p, VOID.triples)) for p in void.objects(dataset, VOID.propertyPartition)
    ]
    assert sum(by_property) == len(triples)
    assert void.value(dataset, VOID.sparqlEndpoint) == rdflib.URIRef(seed_base + "sparql")
    assert void.value(dataset, rdflib.URIRef("http://purl.org/dc/terms/license")) is not None
    assert list(void.objects(dataset, VOID.exampleResource))


def snapshot(directory: Path) -> dict[str, str]:
    """Every file below a directory with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )


@pytest.fixture(scope="module")
def built_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's inputs and a good dist/ built from them by the CLI, once per module."""
    root = tmp_path_factory.mktemp("checkout")
    for name in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / name, root / name)
    result = run_cli("build", "--out", "dist", "--base", "http://example.org/", cwd=root)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture()
def good_copy(built_checkout: Path, tmp_path: Path) -> Path:
    """A copy of the built checkout that a test may break."""
    return shutil.copytree(built_checkout, tmp_path / "checkout")


def test_syntax_error_exits_2_and_leaves_dist_untouched(good_copy: Path) -> None:
    before = snapshot(good_copy / "dist")
    (good_copy / "data" / "broken.ttl").write_text("<id/x> <def/y> .\n")
    result = run_cli("build", "--out", "dist", "--base", "http://example.org/", cwd=good_copy)
    assert result.returncode == 2
    assert "broken.ttl" in result.stderr
    assert snapshot(good_copy / "dist") == before
    assert not [p for p in good_copy.iterdir() if p.name.startswith(".dist")]


def test_shacl_failure_exits_1_names_node_path_file_and_leaves_dist_untouched(
    good_copy: Path,
) -> None:
    before = snapshot(good_copy / "dist")
    # A realistic bad edit: a curator adds a place with no label at all.
    (good_copy / "data" / "bad-place.trig").write_text(
        "@prefix schema: <https://schema.org/> .\n"
        "<graph/curated> { <id/place/nowhere> a schema:Place . }\n"
    )
    result = run_cli("build", "--out", "dist", "--base", "http://example.org/", cwd=good_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "http://example.org/id/place/nowhere" in result.stderr
    assert "bad-place.trig" in result.stderr
    assert "path:" in result.stderr
    assert snapshot(good_copy / "dist") == before


def test_validate_exit_codes_and_turtle_report(good_copy: Path) -> None:
    assert run_cli("validate", cwd=good_copy).returncode == 0
    (good_copy / "data" / "bad-place.trig").write_text(
        "@prefix schema: <https://schema.org/> .\n"
        "<graph/curated> { <id/place/nowhere> a schema:Place . }\n"
    )
    result = run_cli("validate", "--format", "turtle", cwd=good_copy)
    assert result.returncode == 1
    report = rdflib.Graph().parse(data=result.stdout, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert (None, sh.conforms, rdflib.Literal(False)) in report
    missing = run_cli("validate", "--data", "no-such-dir", cwd=good_copy)
    assert missing.returncode == 2


def test_rebuilding_with_another_base_rehomes_every_iri(tmp_path: Path) -> None:
    dist = build_dist(tmp_path / "dist", base="https://kg.example.net/")
    text = gzip.decompress((dist / "dataset.nq.gz").read_bytes()).decode()
    assert "https://kg.example.net/id/" in text
    assert "http://127.0.0.1:8080/" not in text


def test_cli_query_reads_the_built_store(good_copy: Path) -> None:
    result = run_cli(
        "query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--format", "csv", cwd=good_copy
    )
    assert result.returncode == 0, result.stderr
    rows = result.stdout.strip().splitlines()
    assert rows[0] == "n" and int(rows[1]) > 100


def test_any_directory_of_rdf_builds_without_shapes(conformance_dist: Path) -> None:
    store = ox.Store.read_only(str(conformance_dist / "store"))
    source = ox.Dataset(ox.parse(path=str(ROOT / "tests/fixtures/w3c/sparql-protocol-dataset.nq")))
    # The store: the source's named graphs, and their union as the default graph.
    named = [q for q in store if not isinstance(q.graph_name, ox.DefaultGraph)]
    assert len(named) == len(source)
    union_triples = {ox.Triple(q.subject, q.predicate, q.object) for q in source}
    assert len(store) - len(named) == len(union_triples)


def test_validate_writes_its_report_to_stdout_either_way(good_copy: Path) -> None:
    """`publisher validate > report.txt` captures the report, conforming or not."""
    conforming = run_cli("validate", cwd=good_copy)
    assert conforming.returncode == 0 and conforming.stdout.strip()
    (good_copy / "data" / "bad-place.trig").write_text(
        "@prefix schema: <https://schema.org/> .\n"
        "<graph/curated> { <id/place/nowhere> a schema:Place . }\n"
    )
    failing = run_cli("validate", cwd=good_copy)
    assert failing.returncode == 1
    assert (
        "http://127.0.0.1:8080/id/place/nowhere" in failing.stdout
        or "id/place/nowhere" in failing.stdout
    )
    assert "bad-place.trig" in failing.stdout
    assert failing.stderr == ""
    broken = run_cli("validate", "--data", "no-such-dir", cwd=good_copy)
    assert broken.returncode == 2 and broken.stderr.strip() and not broken.stdout.strip()


def test_the_query_page_examples_come_from_dist(seed_dist: Path, tmp_path: Path) -> None:
    """Serving needs only dist/: the competency questions are copied there by the build."""
    from support import in_process_app

    copied = sorted(p.name for p in (seed_dist / "cq").glob("*.rq"))
    assert copied == sorted(p.name for p in (ROOT / "ontology" / "cq").glob("*.rq"))
    app = in_process_app(seed_dist, ontology_dir=str(tmp_path / "no-ontology-here"))
    page = app.test_client().get("/sparql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    first = (ROOT / "ontology" / "cq" / copied[0]).read_text(encoding="utf-8")
    question = next(line for line in first.splitlines() if line.startswith("# Question:"))
    assert question.removeprefix("# Question:").strip() in page.get_data(as_text=True)


def test_make_bench_runs_an_existing_bounded_script() -> None:
    makefile = (ROOT / "Makefile").read_text()
    script = makefile.split("\nbench:", 1)[1].split("\n")[1].split()[-1]
    assert (ROOT / script).is_file(), script
    listed = subprocess.run(
        [sys.executable, str(ROOT / script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0 and "--quick" in listed.stdout
