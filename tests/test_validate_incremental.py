"""validate_dataset(changed_files=...): only the units the changed files can affect are planned
and validated, and the report is exactly the one a cold full validation gives.

Every step edits the generated corpus as a curator would (a comment, a statement that breaks a
shape, the fix, a shared entity in curated.trig, a document that points at another, a new
document, a deleted one), validates with the names of the changed files, and compares with a full
validation without cache of the same files. How many units had to change is worked out
independently: by planning every unit before and after (plan_units) and comparing their digests.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from rdflib.compare import isomorphic

from publisher.dataset.load import load_dataset, load_shapes
from publisher.dataset.validate import Report, validate_dataset
from publisher.dataset.validation_units import file_key, file_stamp, plan_units, unit_digest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from source_corpus import write_corpus  # noqa: E402

BASE = "http://127.0.0.1:8080/"
SHARED = ["graph/ontology", "graph/curated", "graph/provenance"]
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCT = "http://purl.org/dc/terms/"


class Corpus:
    """A generated corpus, validated step by step with changed_files, checked against a cold
    full validation and against the digests of a full plan."""

    def __init__(self, root: Path, *, docs: int, engine: str = "sparql") -> None:
        self.root = root
        self.data = root / "data"
        write_corpus(self.data, docs=docs, seed=2)
        self.engine = engine
        self.shapes = load_shapes(REPO / "shapes", base=BASE)
        self.seen: set[str] = set()  # every unit digest validated so far (the cache's content)
        self.last: dict[str, str] = {}  # unit -> digest, at the last step

    def sources(self) -> list[Path]:
        return sorted((self.data / "sources").glob("*.trig"))

    def _load(self):
        return load_dataset(base=BASE, ontology_dir=REPO / "ontology", data_dir=self.data)

    def _digests(self, dataset) -> dict[str, str]:
        plan = plan_units(dataset, shared_graphs=SHARED)
        return {u.name: unit_digest(u, salt="oracle") for u in plan.units}

    def validate(
        self, changed: list[Path] | None, *, stamps: dict[str, tuple[int, int]] | None = None
    ) -> tuple[Report, int, int]:
        """The report with changed_files, and the oracle's (units whose content changed,
        units never validated before)."""
        dataset = self._load()
        digests = self._digests(dataset)
        changed_units = sum(1 for name, d in digests.items() if self.last.get(name) != d)
        unseen = len(set(digests.values()) - self.seen)
        self.seen |= set(digests.values())
        self.last = digests
        report = validate_dataset(
            dataset,
            self.shapes,
            shared_graphs=SHARED,
            root=self.root,
            engine=self.engine,
            cache_dir=self.root / "cache",
            changed_files=changed,
            stamps=stamps,
        )
        cold = validate_dataset(
            self._load(), self.shapes, shared_graphs=SHARED, root=self.root, engine=self.engine
        )
        assert report.findings == cold.findings
        assert report.text() == cold.text()
        assert report.conforms == cold.conforms
        assert report.groups_validated == cold.groups_validated
        assert isomorphic(report.results_graph, cold.results_graph)
        return report, changed_units, unseen


def graph_of(path: Path) -> str:
    return re.search(r"^<(graph/[^>]+)> \{", path.read_text(encoding="utf-8"), re.M).group(1)


def document_of(path: Path) -> str:
    return re.search(r"^\s*<(id/document/[^>]+)> a ", path.read_text(encoding="utf-8"), re.M).group(
        1
    )


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(text)


def test_each_kind_of_edit_plans_only_what_it_can_affect(tmp_path: Path) -> None:
    docs = 6
    corpus = Corpus(tmp_path, docs=docs)
    units = docs + 1  # every document and the shared data nobody owns
    sources = corpus.sources()

    # No index yet: changed_files cannot be trusted, everything is planned.
    first, changed, unseen = corpus.validate([sources[0]])
    assert first.conforms, first.text()
    assert (first.validated, first.from_cache, first.planned) == (units, 0, units)
    assert first.counts() == f"{units} document(s) validated, 0 from the cache (engine sparql)."

    # Nothing changed: nothing planned.
    same, *_ = corpus.validate([])
    assert (same.validated, same.from_cache, same.planned) == (0, units, 0)

    # A comment change: the document is planned again, its triples are the same: no validation.
    doc = sources[2]
    text = doc.read_text(encoding="utf-8")
    doc.write_text("# Xocalı / Ходжалы: a curator's note\n" + text, encoding="utf-8")
    comment, changed, unseen = corpus.validate([doc])
    assert (changed, unseen) == (0, 0)
    assert (comment.validated, comment.from_cache, comment.planned) == (0, units, 1)
    assert comment.counts() == f"0 document(s) validated, {units} from the cache (engine sparql)."

    # A real change that breaks a shape: an exact figure the quote does not give.
    value = re.search(r"schema:value (\d+) ;", text)
    assert value is not None
    broken_text = text.replace(value.group(0), f"schema:value {int(value.group(1)) + 7} ;", 1)
    doc.write_text(broken_text, encoding="utf-8")
    broken, changed, unseen = corpus.validate([doc])
    assert (changed, unseen) == (1, 1)
    assert (broken.validated, broken.from_cache, broken.planned) == (1, units - 1, 1)
    assert not broken.conforms
    assert {f.files for f in broken.findings} == {(str(doc.relative_to(tmp_path)),)}

    # The fix (the figure back, and a label in Azerbaijani): valid again.
    fixed_text = text + (
        f'\n<{graph_of(doc)}> {{ <{document_of(doc)}> <{RDFS}comment> "Xocalı"@az . }}\n'
    )
    doc.write_text(fixed_text, encoding="utf-8")
    fixed, changed, unseen = corpus.validate([doc])
    assert (changed, unseen) == (1, 1)
    assert (fixed.validated, fixed.planned) == (1, 1)
    assert fixed.conforms, fixed.text()

    # A shared entity in curated.trig that some documents refer to: those documents and the
    # shared data, nothing else.
    curated = corpus.data / "curated.trig"
    curated_text = curated.read_text(encoding="utf-8")
    texts = [s.read_text(encoding="utf-8") for s in sources]
    candidates = sorted(
        (sum(iri in t for t in texts), iri)
        for iri in re.findall(r"^\s*(<id/organisation/[^>]+>) a ", curated_text, re.M)
        if curated_text.count(iri) == 1  # no other shared entity points at it
    )
    referring, entity = next(c for c in candidates if 0 < c[0] < docs)
    append(curated, f'\n<graph/curated> {{ {entity} <{RDFS}comment> "Ходжалы"@ru . }}\n')
    shared_edit, changed, unseen = corpus.validate([curated])
    assert changed == unseen == referring + 1
    assert (shared_edit.validated, shared_edit.planned) == (referring + 1, referring + 1)
    assert shared_edit.from_cache == units - referring - 1

    # The same entity loses its type: a finding about curated.trig, in every unit that sees it.
    curated.write_text(
        curated.read_text(encoding="utf-8").replace(f"{entity} a ", f"{entity} <{RDFS}seeAlso> "),
        encoding="utf-8",
    )
    retyped, changed, unseen = corpus.validate([curated])
    assert retyped.validated == unseen and retyped.planned == referring + 1

    # A document that points at another: editing the other's provenance (a shared subject it
    # owns) affects both.
    pointing, pointed = sources[4], sources[5]
    append(
        pointing,
        f"\n<{graph_of(pointing)}> {{ <{document_of(pointing)}> <{DCT}references> "
        f"<{document_of(pointed)}> . }}\n",
    )
    pointer, changed, unseen = corpus.validate([pointing])
    assert (pointer.validated, pointer.planned) == (1, 1)
    append(
        pointed,
        f'\n<graph/provenance> {{ <{document_of(pointed)}> <{RDFS}comment> "Xocalı"@az . }}\n',
    )
    provenance, changed, unseen = corpus.validate([pointed])
    assert changed == unseen == 2
    assert (provenance.validated, provenance.planned) == (2, 2)

    # A new document (a copy of one, under new names): that document only.
    new = corpus.data / "sources" / "synthetic-source-99999.trig"
    new.write_text(
        sources[1].read_text(encoding="utf-8").replace(sources[1].stem, new.stem), encoding="utf-8"
    )
    added, changed, unseen = corpus.validate([new])
    assert (added.validated, added.from_cache, added.planned) == (1, units, 1)
    assert added.groups_validated == docs + 1

    # A deleted document: nothing to validate; the one that pointed at it is planned again.
    pointed.unlink()
    deleted, changed, unseen = corpus.validate([pointed])
    assert deleted.groups_validated == docs
    assert (deleted.validated, deleted.planned) == (unseen, 1)


def test_without_a_usable_index_every_unit_is_planned(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path, docs=3)
    corpus.validate(None)
    index = tmp_path / "cache" / "validation" / "index.json"
    assert index.is_file()
    doc = corpus.sources()[0]
    append(doc, f'\n<{graph_of(doc)}> {{ <{document_of(doc)}> <{RDFS}comment> "Xocalı"@az . }}\n')

    # A file the caller does not name, edited all the same: noticed by its size and time.
    other = corpus.sources()[1]
    append(
        other,
        f'\n<{graph_of(other)}> {{ <{document_of(other)}> <{RDFS}comment> "Ходжалы"@ru . }}\n',
    )
    unnamed, changed, unseen = corpus.validate([doc])
    assert changed == unseen == 2
    assert (unnamed.validated, unnamed.planned) == (2, 2)

    # A damaged index, an absent one: the full path, the same answer.
    append(doc, f'<{graph_of(doc)}> {{ <{document_of(doc)}> <{RDFS}comment> "Ходжалы"@ru . }}\n')
    index.write_text('{"version": 1, "salt": [', encoding="utf-8")
    damaged, *_ = corpus.validate([doc])
    assert (damaged.validated, damaged.planned) == (1, 4)
    index.unlink()
    absent, *_ = corpus.validate([doc])
    assert (absent.validated, absent.planned) == (0, 4)

    # Another engine's index is not this engine's.
    corpus.engine = "pyshacl"
    shutil.rmtree(tmp_path / "cache")
    corpus.validate(None)
    corpus.engine = "sparql"
    other_engine, *_ = corpus.validate([doc])
    assert (other_engine.validated, other_engine.planned) == (4, 4)


def test_the_stamps_a_caller_read_stand_for_the_files(tmp_path: Path) -> None:
    """An incremental build hands the gate the size and time it read of every file (its plan
    stats them all): an unnamed edit is still noticed, from the given stamp or, for a file
    the caller left out (modified too recently to trust), from the file."""
    corpus = Corpus(tmp_path, docs=3)
    corpus.validate(None)
    doc, other = corpus.sources()[:2]

    def stamps(*, leaving_out: Path | None = None) -> dict[str, tuple[int, int]]:
        files = [p for p in corpus.data.rglob("*") if p.is_file() and p != leaving_out]
        return {file_key(p): file_stamp(p) for p in files}

    append(doc, f'\n<{graph_of(doc)}> {{ <{document_of(doc)}> <{RDFS}comment> "Xocalı"@az . }}\n')
    append(
        other, f'<{graph_of(other)}> {{ <{document_of(other)}> <{RDFS}comment> "Ходжалы"@ru . }}\n'
    )
    given, changed, unseen = corpus.validate([doc], stamps=stamps())
    assert changed == unseen == 2
    assert (given.validated, given.planned) == (2, 2)

    append(other, f'<{graph_of(other)}> {{ <{document_of(other)}> <{RDFS}comment> "1992" . }}\n')
    looked_at, changed, unseen = corpus.validate([doc], stamps=stamps(leaving_out=other))
    assert changed == unseen == 1
    # `doc` is named again, unchanged: planned, answered from the cache.
    assert (looked_at.validated, looked_at.planned) == (1, 2)


def test_the_reference_engine_agrees_after_an_incremental_validation(tmp_path: Path) -> None:
    corpus = Corpus(tmp_path, docs=2, engine="pyshacl")
    corpus.validate(None)
    doc = corpus.sources()[1]
    text = doc.read_text(encoding="utf-8")
    value = re.search(r"schema:value (\d+) ;", text)
    assert value is not None
    doc.write_text(text.replace(value.group(0), "schema:value 1992 ;", 1), encoding="utf-8")
    report, *_ = corpus.validate([doc])
    assert (report.validated, report.planned) == (1, 1)
    assert not report.conforms


PLACE_SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<shapes#Place> a sh:NodeShape ;
    sh:targetClass <def/Place> ;
    sh:property [ sh:path rdfs:label ; sh:minCount 1 ; sh:message "A place needs a label." ] ;
    sh:property [ sh:path ( <def/near> <def/to> ) ; sh:class <def/Place> ;
                  sh:message "A place is near places only." ] .
"""
P = "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"


def test_unusual_files_give_the_answer_of_a_full_validation(tmp_path: Path) -> None:
    """A Turtle file that lands in a shared graph (curated.ttl), blank nodes in the shared data,
    a file that writes two source graphs, a graph written by two files: every edit, validated
    with changed_files, gives what a cold full validation gives."""
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "shapes.ttl").write_text(PLACE_SHAPES, encoding="utf-8")
    shapes = load_shapes_file(tmp_path / "shapes.ttl")
    files = {
        "curated.ttl": P
        + '<id/place/a> a <def/Place> ; rdfs:label "A" . <id/place/b> a <def/Place> ; rdfs:label "B" ;'
        ' <def/near> [ <def/to> <id/place/c> ] . <id/place/c> a <def/Place> ; rdfs:label "C" .\n',
        "one.trig": P + '<graph/one> { <id/place/a> rdfs:label "Xocalı"@az .'
        " <id/doc/one> <def/mentions> <id/place/b> . }\n"
        "<graph/provenance> { <graph/one> <def/from> <id/doc/one> . }\n",
        "two.trig": P + "<graph/two> { <id/doc/two> <def/mentions> <id/place/c> . }\n"
        '<graph/three> { <id/place/c> rdfs:label "Ходжалы"@ru . }\n'
        "<graph/provenance> { <graph/two> <def/from> <id/doc/two> . }\n",
        "four.ttl": "<id/place/d> a <def/Place> .\n",
        "four.nt": f'<{BASE}id/place/d> <{RDFS}label> "D" .\n',
    }
    for name, text in files.items():
        (data / name).write_text(text, encoding="utf-8")
    cache = tmp_path / "cache"

    def check(changed: list[str] | None) -> Report:
        report = validate_dataset(
            load_dataset(base=BASE, ontology_dir=None, data_dir=data),
            shapes,
            shared_graphs=["graph/curated", "graph/provenance"],
            root=tmp_path,
            cache_dir=cache,
            changed_files=None if changed is None else [data / n for n in changed],
        )
        cold = validate_dataset(
            load_dataset(base=BASE, ontology_dir=None, data_dir=data),
            shapes,
            shared_graphs=["graph/curated", "graph/provenance"],
            root=tmp_path,
        )
        assert report.text() == cold.text()
        assert isomorphic(report.results_graph, cold.results_graph)
        return report

    first = check(None)
    assert first.conforms, first.text()
    edits: list[tuple[str, str | None]] = [
        # b loses its label: found in the shared data and in one (which mentions b)
        ("curated.ttl", files["curated.ttl"].replace(' rdfs:label "B" ;', "")),
        # the blank node now points at something that is not a place
        ("curated.ttl", files["curated.ttl"].replace("<def/to> <id/place/c>", "<def/to> <id/x>")),
        # graph/three is gone (c keeps the label curated.ttl gives it)
        ("two.trig", files["two.trig"].split("<graph/three>")[0]),
        ("four.nt", None),  # d loses its label
        ("five.ttl", '<id/place/c> <http://www.w3.org/2000/01/rdf-schema#label> "C" .\n'),
        ("curated.ttl", files["curated.ttl"]),
        ("two.trig", files["two.trig"]),
        ("four.nt", files["four.nt"]),
    ]
    outcomes = []
    for name, text in edits:
        if text is None:
            (data / name).unlink()
        else:
            (data / name).write_text(text, encoding="utf-8")
        report = check([name])
        assert report.planned <= 6
        outcomes.append(report.conforms)
    # conforms again only once every edit is undone (four.nt back: d has its label)
    assert outcomes == [False] * 7 + [True]


def load_shapes_file(path: Path):
    import pyoxigraph as ox

    return [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=BASE)
    ]


def test_random_edits_give_the_answer_of_a_full_validation(tmp_path: Path) -> None:
    """A seeded walk of edits of every kind (figures, curated entities and their types,
    references between documents, provenance, publishers, new and deleted documents)."""
    import random

    corpus = Corpus(tmp_path, docs=8)
    corpus.validate(None)
    rng = random.Random(9)
    curated = corpus.data / "curated.trig"
    for step in range(12):
        sources = corpus.sources()
        doc = rng.choice(sources)
        text = doc.read_text(encoding="utf-8")
        graph, document = graph_of(doc), document_of(doc)
        changed = [doc]
        kind = rng.choice(["figure", "entity", "type", "ref", "prov", "publisher", "new", "delete"])
        if kind == "figure":
            value = re.search(r"schema:value (\d+) ;", text)
            if value:
                bumped = f"schema:value {int(value.group(1)) + 1} ;"
                doc.write_text(text.replace(value.group(0), bumped, 1), encoding="utf-8")
        elif kind in ("entity", "type"):
            shared = curated.read_text(encoding="utf-8")
            entity = rng.choice(re.findall(r"^\s*(<id/[^>]+>) a ", shared, re.M))
            if kind == "entity":
                shared += f'\n<graph/curated> {{ {entity} <{RDFS}comment> "Xocalı {step}"@az . }}\n'
            else:
                shared = shared.replace(f"{entity} a ", f"{entity} <{RDFS}seeAlso> ", 1)
            curated.write_text(shared, encoding="utf-8")
            changed = [curated]
        elif kind == "ref":
            other = document_of(rng.choice(sources))
            append(doc, f"\n<{graph}> {{ <{document}> <{DCT}references> <{other}> . }}\n")
        elif kind == "prov":
            append(doc, f'\n<graph/provenance> {{ <{document}> <{RDFS}comment> "Ходжалы" . }}\n')
        elif kind == "publisher":
            organisations = re.findall(r"<id/organisation/[^>]+>", curated.read_text("utf-8"))
            publisher = re.search(r"dct:publisher (<[^>]+>)", text)
            assert publisher is not None
            doc.write_text(text.replace(publisher.group(1), rng.choice(organisations)), "utf-8")
        elif kind == "new":
            new = doc.with_name(f"synthetic-source-{900 + step:05d}.trig")
            new.write_text(text.replace(doc.stem, new.stem), encoding="utf-8")
            changed = [new]
        elif len(sources) > 3:
            doc.unlink()
        report, changed_units, unseen = corpus.validate(changed)  # compared with a cold one
        assert report.validated == unseen
        assert report.planned >= changed_units
