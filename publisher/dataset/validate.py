"""The SHACL gate: validate the dataset against shapes/, report in words a curator can act on.

Each non-shared graph (one per source document) is validated together with the shared graphs
(ontology, curated entities, provenance) it refers to. That keeps the cost linear in the number
of source documents (pySHACL's cost grows much faster than linearly with graph size) and names
the graph a bad statement sits in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import rdflib
from rdflib.namespace import SH

from publisher.dataset.load import Dataset


@dataclass(frozen=True, order=True)
class Finding:
    """One SHACL result, with the file(s) the focus node was written in."""

    files: tuple[str, ...]
    focus: str
    path: str
    severity: str
    message: str
    value: str
    shape: str
    component: str


@dataclass
class Report:
    conforms: bool
    findings: list[Finding]
    results_graph: rdflib.Graph
    groups_validated: int

    def text(self) -> str:
        if self.conforms:
            return f"Conforms: all {self.groups_validated} graph group(s) satisfy the shapes."
        files = sorted({f for finding in self.findings for f in finding.files})
        lines = [
            f"Validation failed: {len(self.findings)} result(s) in {len(files) or 'unknown'} "
            "file(s). Nothing was published; the previous dist/ is unchanged.",
        ]
        current: tuple[str, ...] | None = None
        for finding in sorted(self.findings):
            if finding.files != current:
                current = finding.files
                lines.append("")
                lines.append(f"In {', '.join(current) or '(file unknown)'}:")
            lines.append(f"  {finding.severity}: {finding.message}")
            lines.append(f"    focus node: {finding.focus}")
            if finding.path:
                lines.append(f"    path:       {finding.path}")
            if finding.value:
                lines.append(f"    value:      {finding.value}")
            lines.append(f"    shape:      {finding.shape} ({finding.component})")
        return "\n".join(lines)

    def turtle(self) -> str:
        return self.results_graph.serialize(format="turtle")


def to_rdflib_graph(triples: list[ox.Triple] | list[ox.Quad]) -> rdflib.Graph:
    """Hand triples from the store to rdflib via N-Triples (exact, and fast enough for the gate)."""
    graph = rdflib.Graph()
    data = ox.serialize(
        (ox.Triple(t.subject, t.predicate, t.object) for t in triples),
        format=ox.RdfFormat.N_TRIPLES,
    )
    graph.parse(data=data, format="nt")
    return graph


def _short(term: rdflib.term.Node | None, graph: rdflib.Graph) -> str:
    if term is None:
        return ""
    if isinstance(term, rdflib.URIRef):
        return f"<{term}>"
    if isinstance(term, rdflib.BNode):
        # Say what the blank node is, since its id means nothing to a curator.
        return "[] (a blank node)"
    return term.n3(graph.namespace_manager)


def _shape_name(shape: rdflib.term.Node | None, shapes: rdflib.Graph) -> str:
    """A property shape written as a blank node is named by the node shape that holds it."""
    if isinstance(shape, rdflib.BNode):
        parent = shapes.value(None, SH.property, shape)
        path = shapes.value(shape, SH.path)
        if parent is not None:
            where = f", property {_short(path, shapes)}" if path is not None else ""
            return f"{_short(parent, shapes)}{where}"
    return _short(shape, shapes)


def validate_dataset(
    dataset: Dataset,
    shapes: list[ox.Triple],
    *,
    shared_graphs: list[str],
    root: Path | None = None,
) -> Report:
    """Validate every source graph with the shared graphs; merge and explain the results.

    File names in the findings are relative to `root` when they lie below it."""
    shapes_graph = to_rdflib_graph(shapes)
    groups = graph_groups(dataset, shared_graphs=shared_graphs)
    findings: set[Finding] = set()
    results_graph = rdflib.Graph()
    results_graph.bind("sh", SH)
    conforms = True
    for group in groups:
        data_graph = to_rdflib_graph(_group_quads(dataset, group))
        group_conforms, group_results, _ = pyshacl.validate(
            data_graph,
            shacl_graph=shapes_graph,
            inference="none",
            advanced=True,
            allow_warnings=True,
        )
        if group_conforms:
            continue
        conforms = False
        results_graph += group_results
        explain = _Explainer(dataset, group, data_graph, shapes_graph, root)
        findings.update(
            explain.finding(group_results, result)
            for result in group_results.subjects(rdflib.RDF.type, SH.ValidationResult)
        )
    return Report(
        conforms=conforms,
        findings=sorted(findings),
        results_graph=results_graph,
        groups_validated=len(groups),
    )


def graph_groups(dataset: Dataset, *, shared_graphs: list[str]) -> list[list[str]]:
    """One group per source graph: the shared graphs, then that source graph (last)."""
    all_graphs = dataset.graph_names()
    shared = [g for g in all_graphs if g in {dataset.base + s for s in shared_graphs}]
    sources = [g for g in all_graphs if g not in shared]
    return [[*shared, g] for g in sources] or [shared]


def _group_quads(dataset: Dataset, group: list[str]) -> list[ox.Quad]:
    quads: list[ox.Quad] = []
    for graph_name in group:
        quads.extend(dataset.store.quads_for_pattern(None, None, None, ox.NamedNode(graph_name)))
    return quads


class _Explainer:
    """Turns one SHACL result of one graph group into a Finding a curator can act on."""

    def __init__(
        self,
        dataset: Dataset,
        group: list[str],
        data_graph: rdflib.Graph,
        shapes_graph: rdflib.Graph,
        root: Path | None,
    ) -> None:
        self.dataset = dataset
        self.data_graph = data_graph
        self.shapes_graph = shapes_graph
        self.root = root
        source = group[-1]
        group_files = sorted({str(_rel(p, root)) for g in group for p in dataset.graph_files[g]})
        self.source_files = tuple(
            f for f in group_files if _file_is_source(f, source, dataset, root)
        )

    def files(self, focus: rdflib.term.Node | None) -> tuple[str, ...]:
        files = self.dataset.files_for(str(focus)) if isinstance(focus, rdflib.URIRef) else []
        # A blank-node focus, or one typed only in shared data: point at the source graph.
        return tuple(str(_rel(p, self.root)) for p in files) or self.source_files

    def finding(self, results: rdflib.Graph, result: rdflib.term.Node) -> Finding:
        focus = results.value(result, SH.focusNode)
        severity = results.value(result, SH.resultSeverity)
        component = _short(results.value(result, SH.sourceConstraintComponent), self.shapes_graph)
        return Finding(
            files=self.files(focus),
            focus=_short(focus, self.data_graph),
            path=_short(results.value(result, SH.resultPath), self.data_graph),
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            message=str(results.value(result, SH.resultMessage) or "(no message)"),
            value=_short(results.value(result, SH.value), self.data_graph),
            shape=_shape_name(results.value(result, SH.sourceShape), self.shapes_graph),
            component=component.replace(f"<{SH}", "sh:").rstrip(">"),
        )


def _file_is_source(file: str, graph_name: str, dataset: Dataset, root: Path | None) -> bool:
    return any(str(_rel(p, root)) == file for p in dataset.graph_files.get(graph_name, ()))


def _rel(path: Path, root: Path | None) -> Path:
    if root is None:
        return path
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return path
