"""SHACL shapes compiled to SPARQL queries, run on pyoxigraph over many graph groups at once.

pySHACL stays the reference engine (publisher.dataset.validate runs it when the setting
`validation_engine` is "pyshacl", and tests/test_validate_differential.py compares both on every
broken fixture). This module compiles the SHACL features the project's shapes use into one
SELECT query per (top-level shape, constraint), evaluated over a store in which every graph group
(one source document + the shared context it needs) is one named graph:
`GRAPH ?g { <targets of the shape> <violation pattern> }`. Each row is one validation result of
one group, with the same focus node, path, value, source shape, component, severity and message
pySHACL gives.

What it compiles: targets (targetClass with rdfs:subClassOf*, targetSubjectsOf, targetObjectsOf),
property paths (IRI, sequence, alternative, inverse, zero-or-more/one-or-more/zero-or-one),
minCount, maxCount, nodeKind, datatype (with well-formedness for the XSD types pyoxigraph casts),
class, pattern (+flags), min/maxInclusive, min/maxExclusive, languageIn, uniqueLang, in, hasValue,
node, or, not, and, qualifiedValueShape with qualifiedMinCount, lessThanOrEquals, and SHACL-SPARQL
constraints (sh:select with $this, $PATH, sh:prefixes/sh:declare). A top-level shape that uses
anything else (or a shape without a message, whose generic pySHACL wording is not replicated) is
not compiled: `CompiledShapes.fallback` names it, and the caller runs pySHACL for those shapes
only, so no constraint is ever dropped.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib
import rdflib.collection
from rdflib.namespace import RDF, RDFS, SH, XSD

# Part of every validation cache key: bump it when compiled queries or result rules change.
ENGINE_VERSION = "sparql-2"

GROUP_PREFIX = "urn:x-publisher:group:"
# Which focus nodes a group leaves to the shared unit: (node, SKIP_IN, group) in SKIP_GRAPH
# (publisher.dataset.validation_units, `Unit.skip`).
SKIP_GRAPH = "urn:x-publisher:skip"
SKIP_IN = "urn:x-publisher:in"

# XSD datatypes whose lexical form pyoxigraph can check by casting (an ill-typed literal fails
# the cast, as rdflib marks it ill_typed and pySHACL reports it).
_CASTABLE = {
    str(XSD[name])
    for name in (
        "boolean",
        "decimal",
        "integer",
        "double",
        "float",
        "date",
        "dateTime",
        "time",
        "duration",
        "dayTimeDuration",
        "yearMonthDuration",
        "gYear",
        "gYearMonth",
    )
}

# Parameters of the components this compiler knows; anything else on a shape -> fallback.
_KNOWN = {
    SH.path,
    SH.targetClass,
    SH.targetSubjectsOf,
    SH.targetObjectsOf,
    SH.property,
    SH.minCount,
    SH.maxCount,
    SH.nodeKind,
    SH.datatype,
    SH["class"],
    SH.pattern,
    SH.flags,
    SH.minInclusive,
    SH.maxInclusive,
    SH.minExclusive,
    SH.maxExclusive,
    SH.languageIn,
    SH.uniqueLang,
    SH["in"],
    SH.hasValue,
    SH.node,
    SH["or"],
    SH["not"],
    SH["and"],
    SH.qualifiedValueShape,
    SH.qualifiedMinCount,
    SH.lessThanOrEquals,
    SH.sparql,
    SH.message,
    SH.severity,
    SH.name,
    SH.description,
    SH.order,
    SH.group,
    RDF.type,
    RDFS.label,
    RDFS.comment,
}


class Unsupported(Exception):
    """A shape uses a feature this compiler does not translate (the caller falls back)."""


@dataclass(frozen=True)
class Check:
    """One compiled constraint of one top-level shape: a query and how to read its rows."""

    query: str
    shape: str  # N-Triples of the source shape (blank node ids are this process's)
    component: str  # IRI of the constraint component
    severity: str  # IRI
    message: str  # template (SPARQL constraints substitute {?var})
    path: str  # N-Triples of the default result path ("" for node shapes)
    value: str  # "value": ?value column; "focus": the focus node; "none": no value
    sparql_vars: tuple[str, ...] = ()  # projected variables of a SHACL-SPARQL constraint
    # The same query without the focus nodes a group lists in SKIP_GRAPH ("": the check's
    # shape looks at more than what its focus node points to, so every focus is checked).
    skipping_query: str = ""


@dataclass
class CompiledShapes:
    checks: list[Check] = field(default_factory=list)
    fallback: list[rdflib.term.Node] = field(default_factory=list)  # top-level shapes for pySHACL


def nt(term: rdflib.term.Node) -> str:
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    return term.n3()


def _lit(text: str) -> str:
    """A SPARQL string literal for any text."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def _term(term: rdflib.term.Node) -> str:
    if isinstance(term, rdflib.URIRef):
        return f"<{term}>"
    if isinstance(term, rdflib.Literal):
        if term.language:
            return f"{_lit(str(term))}@{term.language}"
        if term.datatype is not None:
            return f"{_lit(str(term))}^^<{term.datatype}>"
        return _lit(str(term))
    raise Unsupported(f"blank node {term} as a constraint parameter")


class _Compiler:
    def __init__(self, shapes: rdflib.Graph, *, outward: bool = False) -> None:
        self.g = shapes
        self.counter = itertools.count()
        self.outward = outward  # the top-level shape only looks outwards (looks_outward)

    def var(self, stem: str = "v") -> str:
        return f"?_{stem}{next(self.counter)}"

    # -- paths -------------------------------------------------------------------------------
    def path(self, node: rdflib.term.Node) -> str:
        g = self.g
        if isinstance(node, rdflib.URIRef):
            return f"<{node}>"
        if (node, RDF.first, None) in g:
            return "(" + "/".join(self.path(p) for p in rdflib.collection.Collection(g, node)) + ")"
        for predicate, template in (
            (SH.alternativePath, None),
            (SH.inversePath, "^({})"),
            (SH.zeroOrMorePath, "({})*"),
            (SH.oneOrMorePath, "({})+"),
            (SH.zeroOrOnePath, "({})?"),
        ):
            inner = g.value(node, predicate)
            if inner is None:
                continue
            if template is None:
                items = list(rdflib.collection.Collection(g, inner))
                return "(" + "|".join(self.path(p) for p in items) + ")"
            return template.format(self.path(inner))
        raise Unsupported(f"path {node}")

    # -- shapes ------------------------------------------------------------------------------
    def check_params(self, shape: rdflib.term.Node) -> None:
        for predicate in set(self.g.predicates(shape)):
            if predicate not in _KNOWN:
                raise Unsupported(f"{predicate} on {shape}")
        if (shape, SH.deactivated, None) in self.g:
            raise Unsupported("sh:deactivated")
        for predicate in (SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint, SH.closed):
            if (shape, predicate, None) in self.g:
                raise Unsupported(str(predicate))

    def one(self, shape: rdflib.term.Node, predicate: rdflib.URIRef) -> rdflib.term.Node | None:
        values = list(self.g.objects(shape, predicate))
        if len(values) > 1:
            raise Unsupported(f"several {predicate} on {shape}")
        return values[0] if values else None

    def constraints(
        self, shape: rdflib.term.Node, focus: str, *, nested: bool
    ) -> list[tuple[str, str, str | None]]:
        """(component, pattern, value variable) per constraint of `shape` at `focus`.

        The pattern matches exactly when the constraint is violated (one row per value)."""
        g = self.g
        self.check_params(shape)
        path_node = self.one(shape, SH.path)
        out: list[tuple[str, str, str | None]] = []
        if path_node is not None:
            path = self.path(path_node)

            def values(var: str) -> str:
                return f"{focus} {path} {var} ."
        else:

            def values(var: str) -> str:
                return f"BIND ({focus} AS {var})"

        def per_value(component: rdflib.URIRef, condition: Callable[[str], str]) -> None:
            v = self.var()
            out.append((str(component), f"{values(v)} FILTER ({condition(v)})", v))

        for count in g.objects(shape, SH.minCount):
            n = int(count)
            if n > 0:
                if path_node is None:
                    raise Unsupported("sh:minCount on a node shape")
                out.append((str(SH.MinCountConstraintComponent), self._fewer(focus, path, n), None))
        for count in g.objects(shape, SH.maxCount):
            if path_node is None:
                raise Unsupported("sh:maxCount on a node shape")
            out.append(
                (str(SH.MaxCountConstraintComponent), self._more(focus, path, int(count)), None)
            )
        for kind in g.objects(shape, SH.nodeKind):
            tests = {
                SH.IRI: "isIRI({v})",
                SH.BlankNode: "isBlank({v})",
                SH.Literal: "isLiteral({v})",
                SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))",
                SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
                SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
            }
            if kind not in tests:
                raise Unsupported(f"sh:nodeKind {kind}")
            test = tests[kind]
            per_value(SH.NodeKindConstraintComponent, lambda v, t=test: "!" + t.replace("{v}", v))
        for datatype in g.objects(shape, SH.datatype):
            test = self._datatype_test(datatype)
            per_value(SH.DatatypeConstraintComponent, lambda v, t=test: "!" + t.replace("{v}", v))
        for cls in g.objects(shape, SH["class"]):
            v = self.var()
            out.append(
                (
                    str(SH.ClassConstraintComponent),
                    f"{values(v)} FILTER NOT EXISTS {{ {v} a/<{RDFS.subClassOf}>* <{cls}> }}",
                    v,
                )
            )
        for pattern in g.objects(shape, SH.pattern):
            flags = self.one(shape, SH.flags)
            flag_arg = f", {_lit(str(flags))}" if flags is not None else ""
            regex = f"{_lit(str(pattern))}{flag_arg}"
            per_value(
                SH.PatternConstraintComponent,
                lambda v, r=regex: f"isBlank({v}) || !REGEX(STR({v}), {r})",
            )
        for predicate, component, op in (
            (SH.minInclusive, SH.MinInclusiveConstraintComponent, ">="),
            (SH.maxInclusive, SH.MaxInclusiveConstraintComponent, "<="),
            (SH.minExclusive, SH.MinExclusiveConstraintComponent, ">"),
            (SH.maxExclusive, SH.MaxExclusiveConstraintComponent, "<"),
        ):
            for bound in g.objects(shape, predicate):
                if not isinstance(bound, rdflib.Literal) or isinstance(bound.value, str):
                    raise Unsupported("string or ill-typed range bound")
                # An incomparable value (a string, an IRI) is an error in SPARQL: a violation.
                limit = f"{op} {_term(bound)}"
                per_value(
                    component, lambda v, b=limit: f"!COALESCE(isLiteral({v}) && {v} {b}, false)"
                )
        for languages in g.objects(shape, SH.languageIn):
            tags = [str(t) for t in rdflib.collection.Collection(g, languages)]
            per_value(
                SH.LanguageInConstraintComponent,
                lambda v, tags=tags: (
                    f"!(isLiteral({v}) && ("
                    + (" || ".join(f"langMatches(LANG({v}), {_lit(t)})" for t in tags) or "false")
                    + "))"
                ),
            )
        for unique in g.objects(shape, SH.uniqueLang):
            if not (isinstance(unique, rdflib.Literal) and unique.value is True):
                continue
            if path_node is None:
                raise Unsupported("sh:uniqueLang on a node shape")
            a, b = self.var("a"), self.var("b")
            out.append(
                (
                    str(SH.UniqueLangConstraintComponent),
                    f"{focus} {path} {a} . {focus} {path} {b} . FILTER (isLiteral({a}) && "
                    f'isLiteral({b}) && LANG({a}) != "" && LCASE(LANG({a})) = LCASE(LANG({b})) '
                    f"&& !sameTerm({a}, {b}))",
                    None,
                )
            )
        for members in g.objects(shape, SH["in"]):
            allowed = [_term(t) for t in rdflib.collection.Collection(g, members)]
            per_value(
                SH.InConstraintComponent,
                lambda v, allowed=allowed: (
                    "!(" + (" || ".join(f"sameTerm({v}, {t})" for t in allowed) or "false") + ")"
                ),
            )
        for wanted in g.objects(shape, SH.hasValue):
            x = self.var("h")
            where = f"{focus} {path} {x} ." if path_node is not None else f"BIND ({focus} AS {x})"
            out.append(
                (
                    str(SH.HasValueConstraintComponent),
                    f"FILTER NOT EXISTS {{ {where} FILTER (sameTerm({x}, {_term(wanted)})) }}",
                    None,
                )
            )
        for other in g.objects(shape, SH.node):
            per_value(SH.NodeConstraintComponent, lambda v, o=other: "!" + self.conforms(o, v))
        for members in g.objects(shape, SH["or"]):
            items = list(rdflib.collection.Collection(g, members))
            per_value(
                SH.OrConstraintComponent,
                lambda v, items=items: (
                    "!(" + (" || ".join(self.conforms(s, v) for s in items) or "false") + ")"
                ),
            )
        for members in g.objects(shape, SH["and"]):
            items = list(rdflib.collection.Collection(g, members))
            per_value(
                SH.AndConstraintComponent,
                lambda v, items=items: (
                    "!(" + (" && ".join(self.conforms(s, v) for s in items) or "true") + ")"
                ),
            )
        for negated in g.objects(shape, SH["not"]):
            per_value(SH.NotConstraintComponent, lambda v, n=negated: self.conforms(n, v))
        for qualified in g.objects(shape, SH.qualifiedValueShape):
            if path_node is None:
                raise Unsupported("qualified value shape on a node shape")
            minimum = self.one(shape, SH.qualifiedMinCount)
            if minimum is None:
                raise Unsupported("qualifiedValueShape without qualifiedMinCount")
            n = int(minimum)
            if n > 0:
                xs = [self.var("q") for _ in range(n)]
                body = " ".join(f"{focus} {path} {x} ." for x in xs)
                distinct = " && ".join(
                    f"!sameTerm({x}, {y})" for x, y in itertools.combinations(xs, 2)
                )
                conform = " && ".join(self.conforms(qualified, x) for x in xs)
                condition = f"{distinct} && {conform}" if distinct else conform
                out.append(
                    (
                        str(SH.QualifiedMinCountConstraintComponent),
                        f"FILTER NOT EXISTS {{ {body} FILTER ({condition}) }}",
                        None,
                    )
                )
        for other in g.objects(shape, SH.lessThanOrEquals):
            if path_node is None:
                raise Unsupported("sh:lessThanOrEquals on a node shape")
            v, o = self.var(), self.var("o")
            # Two strings or IRIs compare by their text in pySHACL; SPARQL would raise an error.
            out.append(
                (
                    str(SH.LessThanOrEqualsConstraintComponent),
                    f"{values(v)} {focus} <{other}> {o} . FILTER (!COALESCE("
                    f"IF((isIRI({v}) || DATATYPE({v}) = <{XSD.string}>) && (isIRI({o}) || "
                    f"DATATYPE({o}) = <{XSD.string}>), STR({v}) <= STR({o}), {v} <= {o}), false))",
                    v,
                )
            )
        if nested and (shape, SH.sparql, None) in g:
            raise Unsupported("SHACL-SPARQL inside a logical constraint")
        if nested and (shape, SH.property, None) in g:
            for prop in g.objects(shape, SH.property):
                for component, pattern, _v in self.constraints(prop, focus, nested=True):
                    out.append((component, pattern, None))
        return out

    def _fewer(self, focus: str, path: str, n: int) -> str:
        xs = [self.var("c") for _ in range(n)]
        body = " ".join(f"{focus} {path} {x} ." for x in xs)
        distinct = " && ".join(f"!sameTerm({x}, {y})" for x, y in itertools.combinations(xs, 2))
        return f"FILTER NOT EXISTS {{ {body} {f'FILTER ({distinct})' if distinct else ''} }}"

    def _more(self, focus: str, path: str, n: int) -> str:
        xs = [self.var("c") for _ in range(n + 1)]
        body = " ".join(f"{focus} {path} {x} ." for x in xs)
        distinct = " && ".join(f"!sameTerm({x}, {y})" for x, y in itertools.combinations(xs, 2))
        return f"FILTER EXISTS {{ {body} {f'FILTER ({distinct})' if distinct else ''} }}"

    def _datatype_test(self, datatype: rdflib.term.Node) -> str:
        if datatype == RDF.langString:
            return '(isLiteral({v}) && LANG({v}) != "")'
        if datatype == XSD.string:
            return f"(isLiteral({{v}}) && DATATYPE({{v}}) = <{XSD.string}>)"
        if datatype in (RDFS.Literal, RDFS.Datatype):
            raise Unsupported(f"sh:datatype {datatype}")
        test = f"(isLiteral({{v}}) && DATATYPE({{v}}) = <{datatype}>"
        if str(datatype) in _CASTABLE:
            test += f" && COALESCE(DATATYPE(<{datatype}>(STR({{v}}))) = <{datatype}>, false)"
        return test + ")"

    def conforms(self, shape: rdflib.term.Node, node: str) -> str:
        """A SPARQL expression: `node` conforms to `shape` (no violation of any constraint)."""
        patterns = self.constraints(shape, node, nested=True)
        if not patterns:
            return "true"
        return "(" + " && ".join(f"NOT EXISTS {{ {p} }}" for _c, p, _v in patterns) + ")"

    # -- top level ---------------------------------------------------------------------------
    def targets(self, shape: rdflib.term.Node) -> str:
        g = self.g
        parts = [
            f"{{ ?this a/<{RDFS.subClassOf}>* <{c}> }}" for c in g.objects(shape, SH.targetClass)
        ]
        parts += [f"{{ ?this <{p}> [] }}" for p in g.objects(shape, SH.targetSubjectsOf)]
        parts += [f"{{ [] <{p}> ?this }}" for p in g.objects(shape, SH.targetObjectsOf)]
        if (shape, SH.targetNode, None) in g or (shape, RDF.type, RDFS.Class) in g:
            raise Unsupported("sh:targetNode / implicit class target")
        return " UNION ".join(parts)

    def message(self, shape: rdflib.term.Node) -> str | None:
        messages = list(self.g.objects(shape, SH.message))
        if len(messages) > 1:
            raise Unsupported("several messages")
        return str(messages[0]) if messages else None

    def severity(self, shape: rdflib.term.Node) -> str:
        return str(self.g.value(shape, SH.severity) or SH.Violation)

    def top_level(
        self,
        node_shape: rdflib.term.Node,
        targets: str | None = None,
        depth: int = 0,
        root: str = "?this",
    ) -> list[Check]:
        """The checks of a shape with targets; `targets` (a pattern binding ?this) is given for a
        shape reached through sh:node, whose results pySHACL also reports (as sh:detail).
        `root`: the variable of the top-level shape's focus node in `targets`."""
        if depth > 8:
            raise Unsupported("sh:node nested too deep (recursive shapes)")
        targets = targets if targets is not None else self.targets(node_shape)
        checks: list[Check] = []
        shapes = [(node_shape, True)] + [
            (p, False) for p in self.g.objects(node_shape, SH.property)
        ]
        for shape, is_node in shapes:
            if not is_node:
                self.check_params(shape)
                if (shape, SH.property, None) in self.g or (shape, SH.path, None) not in self.g:
                    raise Unsupported("nested property shapes")
            message = self.message(shape)
            path_nt = "" if is_node else nt(self.g.value(shape, SH.path))
            for component, pattern, value_var in self._own(shape):
                if message is None:
                    raise Unsupported(f"no sh:message on {shape} (pySHACL words a generic one)")
                project = f" ({value_var} AS ?value)" if value_var else ""
                head = f"SELECT DISTINCT ?g ?this{project} WHERE {{ GRAPH ?g {{ {targets} "
                checks.append(
                    Check(
                        query=f"{head}{pattern} }} }}",
                        shape=nt(shape),
                        component=component,
                        severity=self.severity(shape),
                        message=message,
                        path=path_nt,
                        value="value" if value_var else "none",
                        skipping_query=f"{head}{_not_skipped(root)} {pattern} }} }}"
                        if self.outward
                        else "",
                    )
                )
            for constraint in self.g.objects(shape, SH.sparql):
                checks.append(self.sparql_check(shape, constraint, targets, is_node, message))
            for other in self.g.objects(shape, SH.node):
                # The nested results of the shape at each value: the focus is the value.
                parent = self.var("p")
                step = (
                    f"BIND ({parent} AS ?this)"
                    if is_node
                    else f"{parent} {self.path(self.g.value(shape, SH.path))} ?this ."
                )
                detail = f"{{ {targets.replace('?this', parent)} {step} }}"
                # The top-level focus keeps its variable below the first level of nesting.
                nested_root = parent if depth == 0 else root
                checks.extend(self.top_level(other, detail, depth + 1, nested_root))
        return checks

    def _own(self, shape: rdflib.term.Node) -> list[tuple[str, str, str | None]]:
        return self.constraints(shape, "?this", nested=False)

    def sparql_check(
        self,
        shape: rdflib.term.Node,
        constraint: rdflib.term.Node,
        targets: str,
        is_node: bool,
        shape_message: str | None,
    ) -> Check:
        g = self.g
        select = g.value(constraint, SH.select)
        if select is None or (constraint, SH.deactivated, None) in g:
            raise Unsupported("SPARQL constraint without sh:select")
        text = str(select)
        if "$currentShape" in text or "$shapesGraph" in text or "?failure" in text:
            raise Unsupported("pre-bound variables other than $this/$PATH")
        if not is_node:
            text = text.replace("$PATH", self.path(g.value(shape, SH.path)))
        text = text.replace("$this", "?this")
        head = re.match(r"\s*SELECT\s+(DISTINCT\s+|REDUCED\s+)?(.*?)\s+WHERE\b", text, re.S | re.I)
        if not head or "(" in head.group(2) or "*" in head.group(2):
            raise Unsupported("SELECT with expressions or *")
        variables = tuple(v[1:] for v in re.findall(r"[?$]\w+", head.group(2)))
        if "this" not in variables:
            raise Unsupported("SPARQL constraint that does not project $this")
        prefixes = ""
        for declarations in g.objects(constraint, SH.prefixes):
            for declare in g.objects(declarations, SH.declare):
                prefix, namespace = g.value(declare, SH.prefix), g.value(declare, SH.namespace)
                prefixes += f"PREFIX {prefix}: <{namespace}>\n"
        messages = list(g.objects(constraint, SH.message))
        if len(messages) > 1:
            raise Unsupported("several messages on a SPARQL constraint")
        if messages and str(messages[0]) != shape_message:
            message = str(messages[0])
        elif shape_message is not None:
            message = shape_message
        else:
            raise Unsupported("SPARQL constraint without a message")
        projected = " ".join(f"?{v}" for v in variables if v != "this")
        return Check(
            query=f"{prefixes}SELECT ?g ?this {projected} WHERE {{ GRAPH ?g {{ {targets} "
            f"{{ {text} }} }} }}",
            shape=nt(shape),
            component=str(SH.SPARQLConstraintComponent),
            severity=self.severity(shape),
            message=message,
            path="" if is_node else nt(g.value(shape, SH.path)),
            value="focus" if is_node else "none",
            sparql_vars=variables,
        )


def _not_skipped(variable: str) -> str:
    """Put right after the targets, so that oxigraph drops a skipped focus node before the
    constraint's pattern is evaluated for it (measured: half the time of these checks)."""
    return f"FILTER NOT EXISTS {{ GRAPH <{SKIP_GRAPH}> {{ {variable} <{SKIP_IN}> ?g }} }}"


def looks_outward(shapes: rdflib.Graph, shape: rdflib.term.Node) -> bool:
    """Whether what the checks of a top-level shape find about a focus node depends only on
    the triples reachable from that node along subject -> object links (its types, their
    superclasses, its values and theirs): targets by class or by a property it has, and no
    inverse path or SPARQL constraint anywhere in the shape or the shapes it uses. Such a
    node's results are the same in every group that holds everything reachable from it."""
    if (shape, SH.targetObjectsOf, None) in shapes or (shape, SH.targetNode, None) in shapes:
        return False
    seen: set[rdflib.term.Node] = set()
    stack: list[rdflib.term.Node] = [shape]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for predicate, value in shapes.predicate_objects(node):
            if predicate in (SH.inversePath, SH.sparql):
                return False
            if isinstance(value, rdflib.BNode | rdflib.URIRef) and predicate != RDF.type:
                stack.append(value)
    return True


_SUBCLASS = str(RDFS.subClassOf)
_INSTANCE_OF = re.compile(r"(\?\w+) a/<" + re.escape(_SUBCLASS) + r">\* <([^>]+)>")


def subclasses_if_uniform(store: ox.Store) -> dict[str, set[str]] | None:
    """Every class's subclasses (itself included) from the rdfs:subClassOf triples of all groups
    in the store, when that union gives each group the same answers as its own triples would.

    `?x a/rdfs:subClassOf* C` (targetClass, sh:class) is the costliest part of the queries; with
    the subclasses known it becomes `?x a ?t . VALUES ?t {...}`. That is exact when, for every
    type used in a group, the superclass chain of the union is all in that group: true when the
    class hierarchy comes from the shared ontology, which each group's context brings whole for
    the types it uses. Otherwise (a document declaring its own subclasses): None, and the
    queries keep their property paths."""
    edges: dict[str, set[tuple[str, str]]] = {}
    up: dict[str, set[str]] = {}
    for row in store.query(
        f"SELECT DISTINCT ?g ?s ?o WHERE {{ GRAPH ?g {{ ?s <{_SUBCLASS}> ?o }} }}"
    ):
        if not isinstance(row["s"], ox.NamedNode) or not isinstance(row["o"], ox.NamedNode):
            return None
        sub, sup = row["s"].value, row["o"].value
        edges.setdefault(row["g"].value, set()).add((sub, sup))
        up.setdefault(sub, set()).add(sup)
    for row in store.query(f"SELECT DISTINCT ?g ?t WHERE {{ GRAPH ?g {{ ?x <{RDF.type}> ?t }} }}"):
        own = edges.get(row["g"].value, set())
        stack, seen = [row["t"].value], set()
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            for sup in up.get(node, ()):
                if (node, sup) not in own:
                    return None
                stack.append(sup)
    down: dict[str, set[str]] = {}
    for sub, sups in up.items():
        for sup in sups:
            down.setdefault(sup, set()).add(sub)

    def below(cls: str) -> set[str]:
        out, stack = set(), [cls]
        while stack:
            node = stack.pop()
            if node not in out:
                out.add(node)
                stack.extend(down.get(node, ()))
        return out

    return {cls: below(cls) for cls in {*down, *up}} | {"": set()}


def with_classes(query: str, subclasses: dict[str, set[str]]) -> str:
    """The query with each `?x a/rdfs:subClassOf* <C>` replaced by a UNION over C's subclasses."""

    def replace(match: re.Match) -> str:
        var, cls = match.group(1), match.group(2)
        members = sorted(subclasses.get(cls) or {cls})
        if len(members) == 1:
            return f"{var} a <{members[0]}>"
        return " UNION ".join(f"{{ {var} a <{c}> }}" for c in members)

    return _INSTANCE_OF.sub(replace, query)


def top_level_shapes(shapes: rdflib.Graph) -> list[rdflib.term.Node]:
    """Shapes with targets, in a stable order (pySHACL validates exactly these)."""
    found: set[rdflib.term.Node] = set()
    for predicate in (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode):
        found.update(shapes.subjects(predicate, None))
    return sorted(found, key=lambda s: (isinstance(s, rdflib.BNode), str(s)))


def compile_shapes(shapes: rdflib.Graph) -> CompiledShapes:
    compiled = CompiledShapes()
    for shape in top_level_shapes(shapes):
        compiler = _Compiler(shapes, outward=looks_outward(shapes, shape))
        try:
            if (shape, SH.path, None) in shapes:
                raise Unsupported("property shape with targets")
            checks = compiler.top_level(shape)
            for check in checks:  # parse each query once now: a compile error is a fallback too
                ox.Store().query(check.query)
                if check.skipping_query:
                    ox.Store().query(check.skipping_query)
        except (Unsupported, SyntaxError, ValueError):
            compiled.fallback.append(shape)
            continue
        compiled.checks.extend(checks)
    return compiled


def shapes_for_fallback(shapes: rdflib.Graph, fallback: list[rdflib.term.Node]) -> rdflib.Graph:
    """The shapes graph with the targets of every compiled shape removed: pySHACL on it
    validates exactly the shapes the compiler left out."""
    reduced = rdflib.Graph()
    keep = set(fallback)
    targets = {SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode}
    for s, p, o in shapes:
        if p in targets and s not in keep:
            continue
        reduced.add((s, p, o))
    return reduced
