"""The /def/ page's index: every class and property of the ontology with label, comment and
alignments to the reused vocabularies, read from graph/ontology once per language preference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from publisher.namespaces import STANDARD_PREFIXES
from publisher.web.labels import Labels, comment_of
from publisher.web.links import Link, labelled_link, local_link
from publisher.web.state import ServedBuild

RDF = STANDARD_PREFIXES["rdf"]
RDFS = STANDARD_PREFIXES["rdfs"]
OWL = STANDARD_PREFIXES["owl"]
SKOS = STANDARD_PREFIXES["skos"]

CLASS_TYPES = {OWL + "Class", RDFS + "Class"}
PROPERTY_TYPES = {
    RDF + "Property",
    OWL + "ObjectProperty",
    OWL + "DatatypeProperty",
    OWL + "AnnotationProperty",
    OWL + "FunctionalProperty",
}
# How a term relates to other vocabularies, in the order the page lists them.
ALIGNMENTS: tuple[tuple[str, str], ...] = (
    (RDFS + "subClassOf", "subclass of"),
    (RDFS + "subPropertyOf", "subproperty of"),
    (OWL + "equivalentClass", "equivalent class"),
    (OWL + "equivalentProperty", "equivalent property"),
    (OWL + "inverseOf", "inverse of"),
    (SKOS + "exactMatch", "exact match"),
    (SKOS + "closeMatch", "close match"),
    (SKOS + "broadMatch", "broad match"),
    (SKOS + "narrowMatch", "narrow match"),
    (SKOS + "relatedMatch", "related match"),
    (RDFS + "domain", "domain"),
    (RDFS + "range", "range"),
)


@dataclass
class TermView:
    iri: str
    href: str
    name: str  # the local name, e.g. Commemoration
    label: str
    label_lang: str | None
    comment: str | None
    comment_lang: str | None
    alignments: list[tuple[str, list[Link]]] = field(default_factory=list)


@dataclass
class Terms:
    classes: list[TermView]
    properties: list[TermView]
    others: list[TermView]


def ontology_terms(state: ServedBuild, *, preferred: Sequence[str]) -> Terms:
    namespace = state.base + "def/"
    quads = state.store.quads(graph=ox.NamedNode(state.base + "graph/ontology"))
    labels = Labels(store=state.store, base=state.base, preferred=tuple(preferred))
    labels.add_quads(quads)
    by_subject: dict[str, list[ox.Quad]] = defaultdict(list)
    for quad in quads:
        if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith(namespace):
            by_subject[quad.subject.value].append(quad)
    by_subject.pop(namespace, None)  # the ontology itself heads the page

    def link(iri: str) -> Link:
        return labelled_link(labels, iri)

    classes, properties, others = [], [], []
    for iri in sorted(by_subject, key=str.lower):
        statements = by_subject[iri]
        types = {q.object.value for q in statements if q.predicate.value == RDF + "type"}
        label, label_lang = labels.text(iri)
        comment = comment_of(statements, iri, preferred)
        view = TermView(
            iri=iri,
            href=local_link(iri),
            name=iri[len(namespace) :],
            label=label,
            label_lang=label_lang,
            comment=comment.value if comment is not None else None,
            comment_lang=comment.language if comment is not None else None,
        )
        for predicate, relation in ALIGNMENTS:
            targets = [
                link(q.object.value)
                for q in statements
                if q.predicate.value == predicate and isinstance(q.object, ox.NamedNode)
            ]
            if targets:
                view.alignments.append((relation, sorted(targets, key=lambda t: t.text.lower())))
        if types & CLASS_TYPES:
            classes.append(view)
        elif types & PROPERTY_TYPES:
            properties.append(view)
        else:
            others.append(view)
    return Terms(classes, properties, others)
