"""Files -> one dataset of quads, with relative IRIs resolved against the base.

Every quad lands in a named graph, never in the store's default graph (the SPARQL default graph
is the union of the named graphs): ontology files go to ``graph/ontology``; triples of a file
that names no graph (Turtle, N-Triples, the default graph of a TriG file) go to
``graph/<file stem>``. The loader remembers which file each subject came from, so that a
validation report can name the file a curator has to open.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox

from publisher.errors import BuildError

# Authoring formats the loader reads, by file extension.
AUTHORING_FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".nq": ox.RdfFormat.N_QUADS,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
}

ONTOLOGY_GRAPH = "graph/ontology"


@dataclass
class Dataset:
    """The loaded dataset: an in-memory store plus which files every graph and subject came from.

    `graph_files` is kept while loading (cheap: a few graph names per file); `subject_files`,
    needed only to name files in a validation report, is worked out on first use by reading
    the files again, so a build that passes does not pay a Python loop over every quad.
    """

    base: str
    store: ox.Store
    graph_files: dict[str, set[Path]] = field(default_factory=lambda: defaultdict(set))
    files: list[tuple[Path, str | None]] = field(default_factory=list)  # (file, forced graph)
    # file -> graph -> subjects it states there (dataset formats: read in the graph-names
    # pass anyway). The incremental rebuild keeps those of graphs several files write to.
    file_subjects: dict[Path, dict[str, set[str]]] = field(default_factory=dict)
    _subject_files: dict[str, set[Path]] | None = field(default=None, repr=False)
    _graph_names: list[str] | None = field(default=None, repr=False)

    def graph_names(self) -> list[str]:
        """The named graphs, sorted; listed once (the build, the gate and the validation plan
        ask for them: 10,000 graphs of a disk store take 50-150 ms each time). A Dataset is
        made once its store is loaded (load_dataset, incremental.dataset_from)."""
        if self._graph_names is None:
            self._graph_names = sorted(
                g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode)
            )
        return list(self._graph_names)

    @property
    def subject_files(self) -> dict[str, set[Path]]:
        if self._subject_files is None:
            self._subject_files = defaultdict(set)
            for path, _graph in self.files:
                for quad in _parse(path, base=self.base):
                    if isinstance(quad.subject, ox.NamedNode):
                        self._subject_files[quad.subject.value].add(path)
        return self._subject_files

    def subjects_by_graph(self, path: Path) -> dict[str, set[str]]:
        """graph -> the subjects (N-Triples form) this file states there: noted by the loader
        for dataset formats; a triple-format file is read again."""
        noted = self.file_subjects.get(path)
        if noted is None:
            noted = defaultdict(set)
            for quad in file_quads(path, base=self.base):
                noted[quad.graph_name.value].add(str(quad.subject))
        return noted

    def files_for(self, term: str) -> list[Path]:
        return sorted(self.subject_files.get(term, ()))

    def __len__(self) -> int:
        return len(self.store)


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "graph"


def rdf_files(directory: Path) -> list[Path]:
    """Authoring files below a directory, in a stable order (hidden files skipped)."""
    return [Path(full) for _name, full in authoring_files(directory)]


def authoring_files(directory: Path) -> list[tuple[str, str]]:
    """(name relative to `directory`, path) of its authoring files, as strings, in the order
    Path objects sort (by path parts); hidden files and folders skipped. os.scandir and
    strings: a file's type comes with its directory entry (no stat per file), and 10,000
    Path objects cost a noticeable part of a second."""
    if not directory.is_dir():
        return []
    found: list[tuple[tuple[str, ...], str]] = []
    pending: list[tuple[tuple[str, ...], str]] = [((), str(directory))]
    while pending:
        parts, folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):  # as os.walk: links not followed
                    pending.append(((*parts, entry.name), entry.path))
                elif (
                    os.path.splitext(entry.name)[1].lower() in AUTHORING_FORMATS and entry.is_file()
                ):
                    found.append(((*parts, entry.name), entry.path))
    found.sort()
    return [("/".join(parts), full) for parts, full in found]


# Above this size a file goes through the store's bulk loader (parallel, no transaction);
# below it the transactional loader, whose per-call cost is lower (10k small source files).
BULK_LOAD_BYTES = 4 << 20


def _parse(path: Path, *, base: str):
    rdf_format = AUTHORING_FORMATS[path.suffix.lower()]
    try:
        with path.open("rb") as stream:
            yield from ox.parse(stream, format=rdf_format, base_iri=base)
    except (SyntaxError, ValueError) as error:
        raise BuildError(f"{path}: cannot parse as {rdf_format.name}: {error}") from error


def load_file(
    path: Path,
    *,
    base: str,
    into: Dataset,
    default_graph: str | None = None,
    noted: bool = False,
) -> None:
    """Parse one file into the dataset's store (the parser and store are Rust: no Python
    loop over the quads of a triple format). Triples outside a named graph land in the
    file's fallback graph; `default_graph` forces every quad of the file into one graph.
    `noted`: the file is in `into.files` already."""
    rdf_format = AUTHORING_FORMATS[path.suffix.lower()]
    fallback = ox.NamedNode(base + (default_graph or f"graph/{slugify(path.stem)}"))
    store = into.store
    if not noted:
        into.files.append((path, default_graph))
    if default_graph is not None and rdf_format.supports_datasets:
        # Rare (a TriG ontology file): every quad re-homed, one by one.
        quads = [
            ox.Quad(q.subject, q.predicate, q.object, fallback) for q in _parse(path, base=base)
        ]
        store.extend(quads)
        into.graph_files[fallback.value].add(path)
        return
    loader = store.bulk_load if path.stat().st_size > BULK_LOAD_BYTES else store.load
    options: dict = {"format": rdf_format, "base_iri": base}
    if not rdf_format.supports_datasets:
        options["to_graph"] = fallback
    try:
        loader(path=str(path), **options)
    except (SyntaxError, ValueError, OSError) as error:
        raise BuildError(f"{path}: cannot parse as {rdf_format.name}: {error}") from error
    if not rdf_format.supports_datasets:
        into.graph_files[fallback.value].add(path)
        return
    # A dataset format names its graphs: note them (and the subjects stated in each), and
    # move what the file put in the default graph (empty before every file) into its
    # fallback graph.
    subjects: dict[str, set[str]] = defaultdict(set)
    for quad in _parse(path, base=base):
        graph = quad.graph_name
        name = fallback.value if isinstance(graph, ox.DefaultGraph) else graph.value
        subjects[name].add(str(quad.subject))
    into.file_subjects[path] = subjects
    for name in subjects:
        into.graph_files[name].add(path)
    if any(True for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph())):
        store.update(
            f"INSERT {{ GRAPH <{fallback.value}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}; "
            "CLEAR DEFAULT"
        )
        into.graph_files[fallback.value].add(path)


def file_quads(path: Path, *, base: str, default_graph: str | None = None) -> set[ox.Quad]:
    """The quads `load_file` puts in the store for this file (same graph rules), as a set."""
    fallback = ox.NamedNode(base + (default_graph or f"graph/{slugify(path.stem)}"))
    quads = set()
    for quad in _parse(path, base=base):
        graph = quad.graph_name
        if default_graph is not None or isinstance(graph, ox.DefaultGraph):
            graph = fallback
        quads.add(ox.Quad(quad.subject, quad.predicate, quad.object, graph))
    return quads


def load_dataset(
    *,
    base: str,
    ontology_dir: Path | None,
    data_dir: Path,
    progress: Callable[[int], None] | None = None,
) -> Dataset:
    """Load the ontology (into graph/ontology) and every RDF file of the data directory;
    `progress(n)` is told of every n files loaded."""
    dataset = Dataset(base=base, store=ox.Store())
    if not data_dir.is_dir():
        raise BuildError(f"data directory {data_dir} does not exist (setting data_dir)")
    ontology_files = rdf_files(ontology_dir) if ontology_dir else []
    for path in ontology_files:
        load_file(path, base=base, into=dataset, default_graph=ONTOLOGY_GRAPH)
    data_files = rdf_files(data_dir)
    if not data_files:
        raise BuildError(f"no RDF files in {data_dir} (extensions: {', '.join(AUTHORING_FORMATS)})")
    # A dataset-format file is read in Python anyway (for its graphs and subjects) while the
    # store, in a thread of its own, loads the file read before: Store.load runs in Rust
    # without the GIL, so the two overlap on two cores. A file the thread cannot take (a
    # triple format, a big file, triples outside a named graph) is loaded afterwards, in
    # order, as before; `dataset.files` keeps the files' order.
    later: list[Path] = []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load") as loader:
        pending: deque[Future[None]] = deque()
        for path in data_files:
            job = _load_in_background(path, base=base, into=dataset, loader=loader)
            if job is None:
                dataset.files.append((path, None))
                later.append(path)
            else:
                pending.append(job)
                while len(pending) > _PENDING_LOADS:  # bounds the file bodies held
                    pending.popleft().result()
            if progress is not None:
                progress(1)
        for job in pending:
            job.result()
    for path in later:
        load_file(path, base=base, into=dataset, noted=True)
    return dataset


_PENDING_LOADS = 64


def _load_in_background(
    path: Path, *, base: str, into: Dataset, loader: ThreadPoolExecutor
) -> Future[None] | None:
    """Note a dataset-format file's graphs and subjects, and have `loader` put it in the
    store; None (nothing done) when load_file must take it."""
    rdf_format = AUTHORING_FORMATS[path.suffix.lower()]
    if not rdf_format.supports_datasets or path.stat().st_size > BULK_LOAD_BYTES:
        return None
    data = path.read_bytes()
    subjects: dict[str, set[str]] = defaultdict(set)
    try:
        for quad in ox.parse(data, format=rdf_format, base_iri=base):
            graph = quad.graph_name
            if isinstance(graph, ox.DefaultGraph):
                return None  # its default graph is re-homed by load_file
            subjects[graph.value].add(str(quad.subject))
    except (SyntaxError, ValueError) as error:
        raise BuildError(f"{path}: cannot parse as {rdf_format.name}: {error}") from error
    into.files.append((path, None))
    into.file_subjects[path] = subjects
    for name in subjects:
        into.graph_files[name].add(path)
    return loader.submit(_load_bytes, into.store, data, rdf_format=rdf_format, base=base, path=path)


def _load_bytes(
    store: ox.Store, data: bytes, *, rdf_format: ox.RdfFormat, base: str, path: Path
) -> None:
    try:
        store.load(data, format=rdf_format, base_iri=base)
    except (SyntaxError, ValueError, OSError) as error:  # parsed once already: unlikely
        raise BuildError(f"{path}: cannot parse as {rdf_format.name}: {error}") from error


SH_NAMESPACE = "http://www.w3.org/ns/shacl#namespace"
XSD_ANY_URI = "http://www.w3.org/2001/XMLSchema#anyURI"


def _resolve_namespace(triple: ox.Triple, base: str) -> ox.Triple:
    """A prefix declaration (sh:declare/sh:namespace) is a literal, which Turtle does not
    resolve: a relative one ("def/") is resolved against the base here, like every IRI."""
    namespace = triple.object
    if (
        triple.predicate.value != SH_NAMESPACE
        or not isinstance(namespace, ox.Literal)
        or re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", namespace.value)
    ):
        return triple
    resolved = urljoin(base, namespace.value)
    return ox.Triple(
        triple.subject, triple.predicate, ox.Literal(resolved, datatype=ox.NamedNode(XSD_ANY_URI))
    )


def load_shapes(shapes_dir: Path, *, base: str) -> list[ox.Triple]:
    """All shapes files as one graph of triples (relative IRIs resolved like the data).

    Blank nodes are named by their order of appearance (the parser names each afresh, at
    random): the same shapes give the same triples, so shapes.ttl, its checksum and the
    validation cache's compiled shapes stay the same from build to build."""
    triples: list[ox.Triple] = []
    names: dict[ox.BlankNode, ox.BlankNode] = {}

    def stable(term: Any) -> Any:
        if isinstance(term, ox.BlankNode):
            return names.setdefault(term, ox.BlankNode(f"shape{len(names) + 1}"))
        return term

    for path in rdf_files(shapes_dir):
        rdf_format = AUTHORING_FORMATS[path.suffix.lower()]
        try:
            with path.open("rb") as stream:
                for quad in ox.parse(stream, format=rdf_format, base_iri=base):
                    triple = ox.Triple(stable(quad.subject), quad.predicate, stable(quad.object))
                    triples.append(_resolve_namespace(triple, base))
        except (SyntaxError, ValueError) as error:
            raise BuildError(f"{path}: cannot parse shapes: {error}") from error
    return triples
