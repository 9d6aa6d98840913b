"""The search index (dist/search.sqlite): a full write against an update after a one-document edit.

    .venv/bin/python bench/search_index_update.py --data /work/prof/docs1k/data
    .venv/bin/python bench/search_index_update.py --docs 300      # writes a corpus first

Loads the data as `build` does (ontology + data, the union of the named graphs as the default
graph), times `write_search_index` (wall, CPU, file size): the baseline, in the same run. Then
edits one source document as a curator would (its graph replaced by a version whose incident
labels read "Xocalı"/"Ходжалы" and whose name for the event changed), applies the delta to the
store and times `update_search_index` from the first file for the delta's subjects. Last, a
fresh write over the edited store, and a check that both files answer a set of searches alike.
Prints the machine first.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the helpers bench/ shares with the tests
import pyoxigraph as ox  # noqa: E402
from machine import describe  # noqa: E402

from publisher.dataset.load import load_dataset  # noqa: E402
from publisher.dataset.search_index import update_search_index, write_search_index  # noqa: E402
from publisher.namespaces import STANDARD_PREFIXES  # noqa: E402
from publisher.store.union import store_union_default_graph  # noqa: E402
from publisher.textsearch import SearchIndex  # noqa: E402

BASE = "http://bench.example/"
QUERIES = ("x", "xo", "xocali", "ходж", "synthetic event", "sintetik", "incident 3", "трагедия")


def timed(task):
    started, cpu = time.perf_counter(), time.process_time()
    result = task()
    return result, time.perf_counter() - started, time.process_time() - cpu


def edit_one_document(store: ox.Store, graph_iri: str) -> set[str]:
    """Replace one document's graph by an edited version; the union kept a set. Returns every
    subject of both versions (the build's incremental path passes those of the quads added or
    removed: fewer)."""
    default = ox.DefaultGraph()
    graph = ox.NamedNode(graph_iri)
    label = ox.NamedNode(STANDARD_PREFIXES["rdfs"] + "label")
    name_used = ox.NamedNode(BASE + "def/nameUsed")
    old = list(store.quads_for_pattern(None, None, None, graph))
    new = []
    for quad in old:
        value = quad.object
        if quad.predicate == label and quad.subject.value.endswith("-incident-1"):
            if isinstance(value, ox.Literal) and value.language in ("az", "ru"):
                text = "Xocalı" if value.language == "az" else "Ходжалы"
                value = ox.Literal(text, language=value.language)
        elif quad.predicate == name_used:
            value = ox.Literal("Xocalı faciəsi", language="az")
        new.append(ox.Quad(quad.subject, quad.predicate, value, graph))
    removed = [q for q in old if q not in set(new)]
    added = [q for q in new if q not in set(old)]
    for quad in removed:
        store.remove(quad)
        others = store.quads_for_pattern(quad.subject, quad.predicate, quad.object, None)
        if not any(not isinstance(q.graph_name, ox.DefaultGraph) for q in others):
            store.remove(ox.Quad(quad.subject, quad.predicate, quad.object, default))
    for quad in added:
        store.add(quad)
        store.add(ox.Quad(quad.subject, quad.predicate, quad.object, default))
    # Every subject of both versions: the delta at its largest (a document read again whole).
    return {q.subject.value for q in [*old, *new] if isinstance(q.subject, ox.NamedNode)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="a data directory (bench/corpus.py writes one)")
    parser.add_argument("--docs", type=int, default=300, help="without --data: corpus size")
    options = parser.parse_args()
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory(prefix="search-index-update-") as scratch:
        work = Path(scratch)
        data = options.data
        if data is None:
            from source_corpus import write_corpus

            data = work / "data"
            write_corpus(data, docs=options.docs, seed=1)
        (dataset, seconds, _cpu) = timed(
            lambda: load_dataset(base=BASE, ontology_dir=ROOT / "ontology", data_dir=data)
        )
        store = store_union_default_graph(dataset.store)
        print(f"data: {data}, {len(store)} quads with the union, loaded in {seconds:.1f} s")

        first, second, fresh = (work / name for name in ("first", "second", "fresh"))
        for directory in (first, second, fresh):
            directory.mkdir()
        path, seconds, cpu = timed(lambda: write_search_index(store, base=BASE, target=first))
        size = path.stat().st_size / 1e6
        print(f"write_search_index (baseline): {seconds:.2f} s, {cpu:.2f} s CPU, {size:.1f} MB")

        documents = sorted(g.value for g in store.named_graphs() if "synthetic-source-" in g.value)
        subjects = edit_one_document(store, documents[len(documents) // 2])
        updated, seconds, cpu = timed(
            lambda: update_search_index(path, store, base=BASE, target=second, subjects=subjects)
        )
        print(
            f"update_search_index after one edited document ({len(subjects)} subjects): "
            f"{seconds:.2f} s, {cpu:.2f} s CPU (copy of the file included), "
            f"{updated.stat().st_size / 1e6:.1f} MB"
        )
        again, seconds, cpu = timed(lambda: write_search_index(store, base=BASE, target=fresh))
        print(f"write_search_index of the edited data: {seconds:.2f} s, {cpu:.2f} s CPU")
        one, other = SearchIndex(updated), SearchIndex(again)
        same = (
            all(one.search(q, limit=20) == other.search(q, limit=20) for q in QUERIES)
            and one.classes() == other.classes()
        )
        print(f"same answers as the fresh index on {len(QUERIES)} searches and classes: {same}")
        if not same:
            raise SystemExit("the update differs from a fresh index")


if __name__ == "__main__":
    main()
