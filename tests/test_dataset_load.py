"""publisher.dataset.load: files -> quads in named graphs, relative IRIs resolved against the base."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from publisher.dataset.load import load_dataset, load_shapes, rdf_files
from publisher.errors import BuildError

BASE = "http://example.org/kg/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def quads_of(store: ox.Store, graph: str) -> set[tuple[str, str, str]]:
    return {
        (q.subject.value, q.predicate.value, q.object.value)
        for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))
    }


def test_relative_iris_resolve_against_the_base_and_files_get_their_own_graph(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    write(data / "Press Release 1.ttl", "<id/place/a> <def/near> <id/place/b> .\n")
    write(data / "curated.trig", "<graph/curated> { <id/place/b> <def/near> </abs/c> . }\n")
    dataset = load_dataset(base=BASE, ontology_dir=None, data_dir=data)

    # A file that names no graph gets graph/<slug of its name>; a TriG graph name resolves too.
    assert dataset.graph_names() == [BASE + "graph/curated", BASE + "graph/press-release-1"]
    assert quads_of(dataset.store, BASE + "graph/press-release-1") == {
        (BASE + "id/place/a", BASE + "def/near", BASE + "id/place/b")
    }
    # A root-relative IRI resolves against the base's host, as RFC 3986 says.
    assert quads_of(dataset.store, BASE + "graph/curated") == {
        (BASE + "id/place/b", BASE + "def/near", "http://example.org/abs/c")
    }
    # Nothing lands in the store's default graph (that is where the build puts the union).
    assert not list(dataset.store.quads_for_pattern(None, None, None, ox.DefaultGraph()))


def test_the_ontology_goes_to_graph_ontology_whatever_graph_its_file_names(
    tmp_path: Path,
) -> None:
    write(tmp_path / "ontology" / "kg.trig", "<graph/other> { <def/Place> a <def/Class> . }\n")
    write(tmp_path / "data" / "d.nt", f"<{BASE}id/x> <{RDF_TYPE}> <{BASE}def/Place> .\n")
    dataset = load_dataset(
        base=BASE, ontology_dir=tmp_path / "ontology", data_dir=tmp_path / "data"
    )
    assert dataset.graph_names() == [BASE + "graph/d", BASE + "graph/ontology"]
    assert quads_of(dataset.store, BASE + "graph/ontology") == {
        (BASE + "def/Place", RDF_TYPE, BASE + "def/Class")
    }


def test_the_loader_remembers_which_file_each_subject_and_graph_came_from(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    first = write(data / "a.ttl", "<id/x> <def/p> 1 .\n")
    second = write(data / "b.ttl", "<id/x> <def/p> 2 . <id/y> <def/p> 3 .\n")
    dataset = load_dataset(base=BASE, ontology_dir=None, data_dir=data)
    assert dataset.files_for(BASE + "id/x") == [first, second]
    assert dataset.files_for(BASE + "id/y") == [second]
    assert dataset.files_for(BASE + "id/nowhere") == []
    assert dataset.graph_files[BASE + "graph/a"] == {first}


def test_hidden_and_unknown_files_are_skipped(tmp_path: Path) -> None:
    data = tmp_path / "data"
    kept = write(data / "sub" / "kept.ttl", "<id/x> <def/p> 1 .\n")
    write(data / ".hidden" / "skipped.ttl", "<id/h> <def/p> 1 .\n")
    write(data / ".skipped.ttl", "<id/h> <def/p> 1 .\n")
    write(data / "notes.txt", "not RDF")
    assert rdf_files(data) == [kept]


def test_a_file_that_does_not_parse_is_a_build_error_naming_it(tmp_path: Path) -> None:
    write(tmp_path / "data" / "broken.ttl", "<id/x> <def/p> .\n")
    with pytest.raises(BuildError, match=r"broken\.ttl"):
        load_dataset(base=BASE, ontology_dir=None, data_dir=tmp_path / "data")


def test_a_missing_or_empty_data_directory_is_a_build_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="data_dir"):
        load_dataset(base=BASE, ontology_dir=None, data_dir=tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError, match="no RDF files"):
        load_dataset(base=BASE, ontology_dir=None, data_dir=tmp_path / "empty")


def test_shapes_resolve_relative_iris_and_relative_prefix_declarations(tmp_path: Path) -> None:
    sh = "http://www.w3.org/ns/shacl#"
    write(
        tmp_path / "shapes" / "s.ttl",
        f"@prefix sh: <{sh}> .\n"
        '<def/> sh:declare [ sh:prefix "kg" ; sh:namespace "def/" ] .\n'
        '<def/> sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.com/" ] .\n'
        "<shapes#Place> a sh:NodeShape ; sh:targetClass <def/Place> .\n",
    )
    triples = load_shapes(tmp_path / "shapes", base=BASE)
    namespaces = {t.object.value for t in triples if t.predicate.value == sh + "namespace"}
    assert namespaces == {BASE + "def/", "http://example.com/"}  # absolute ones are kept
    targets = {t.object.value for t in triples if t.predicate.value == sh + "targetClass"}
    assert targets == {BASE + "def/Place"}


def test_the_overlapped_load_gives_what_loading_file_by_file_gives(tmp_path: Path) -> None:
    """load_dataset reads dataset files in Python while a thread loads the store; the store,
    the graphs' files, the subjects noted and the files' order are those of loading each file
    in turn (load_file), with files of every kind mixed in: Turtle, a TriG file with triples
    outside any graph, blank nodes, and the data's own languages."""
    from source_corpus import write_corpus

    from publisher.dataset.load import Dataset, load_file

    data = tmp_path / "data"
    write_corpus(data, docs=4, seed=7)
    write(data / "b-turtle.ttl", '<id/x> <def/name> "Xocalı"@az .\n')
    write(
        data / "c-default.trig",
        '<id/y> <def/name> "Ходжалы"@ru .\n<graph/c> { <id/y> <def/p> [ <def/q> "1" ] . }\n',
    )
    write(data / "d-blank.trig", '<graph/d> { _:b <def/name> "Xocalı" . <id/z> <def/p> _:b . }\n')
    dataset = load_dataset(base=BASE, ontology_dir=None, data_dir=data)
    one_by_one = Dataset(base=BASE, store=ox.Store())
    for path in rdf_files(data):
        load_file(path, base=BASE, into=one_by_one)

    def named(store: ox.Store) -> set:  # blank nodes as the parser names them, per load
        return {tuple(str(t) if not isinstance(t, ox.BlankNode) else "_" for t in q) for q in store}

    assert len(dataset.store) == len(one_by_one.store)
    assert named(dataset.store) == named(one_by_one.store)
    assert dataset.files == one_by_one.files
    assert dict(dataset.graph_files) == dict(one_by_one.graph_files)
    assert {
        path: {g: {s for s in subjects if not s.startswith("_:")} for g, subjects in by.items()}
        for path, by in dataset.file_subjects.items()
    } == {
        path: {g: {s for s in subjects if not s.startswith("_:")} for g, subjects in by.items()}
        for path, by in one_by_one.file_subjects.items()
    }


def test_a_broken_file_among_many_is_named(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for i in range(80):  # more than the loads the thread may have pending
        write(data / f"doc-{i:03d}.trig", f'<graph/d{i}> {{ <id/{i}> <def/name> "Xocalı" . }}\n')
    write(data / "doc-050.trig", '<graph/d50> { <id/50> <def/name> "Ходжалы" ')
    with pytest.raises(BuildError, match=r"doc-050\.trig"):
        load_dataset(base=BASE, ontology_dir=None, data_dir=data)


def test_shapes_load_the_same_triples_every_time(tmp_path) -> None:
    """The parser names blank nodes afresh; the loader names them in order of appearance, so
    shapes.ttl (and its checksum, and the compiled shapes' cache key) is the same each build."""
    from publisher.dataset.load import load_shapes

    repo = Path(__file__).resolve().parent.parent
    first, second = (
        ox.serialize(
            load_shapes(repo / "shapes", base="http://127.0.0.1:8080/"),
            format=ox.RdfFormat.N_TRIPLES,
        )
        for _ in range(2)
    )
    assert first == second and b"_:shape1 " in first
