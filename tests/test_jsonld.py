"""The JSON-LD writer (publisher/jsonld.py) round-trips through an independent processor.

Random datasets (hypothesis) with IRIs whose scheme is a prefix of the context (geo:39.9,46.8,
an RFC 5870 IRI, where geo: is wgs84_pos#), IRIs under every namespace, non-ASCII literals,
language tags, datatypes, blank nodes and named graphs are written, expanded to RDF by pyld
(jsonld.js's Python sibling) and compared with the input after URDNA2015 canonicalisation.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyld import jsonld

from publisher.jsonld import compact
from publisher.namespaces import prefixes

BASE = "http://127.0.0.1:8080/"
NAMESPACES = sorted(prefixes(BASE).values())
PREFIX_NAMES = sorted(prefixes(BASE))


def _no_remote_contexts(url: str, options: dict | None = None) -> dict:
    raise AssertionError(f"pyld tried to fetch {url}")


def canonical(nquads: str) -> str:
    return jsonld.normalize(
        nquads,
        {
            "algorithm": "URDNA2015",
            "inputFormat": "application/n-quads",
            "format": "application/n-quads",
        },
    )


def round_trip(quads: list[ox.Quad]) -> tuple[str, str]:
    written = compact(quads, prefixes=prefixes(BASE))
    expanded = jsonld.to_rdf(
        json.loads(written),
        {"format": "application/n-quads", "documentLoader": _no_remote_contexts},
    )
    given_nquads = ox.serialize(quads, format=ox.RdfFormat.N_QUADS).decode("utf-8")
    return canonical(given_nquads), canonical(expanded)


LOCAL = st.text(alphabet="abcXYZ019-_.é", min_size=1, max_size=6).filter(
    lambda s: not s.startswith("//")
)
SCHEME_IRIS = st.builds(lambda p, rest: f"{p}:{rest}", st.sampled_from(PREFIX_NAMES), LOCAL)
IRIS = st.one_of(
    st.builds(lambda ns, local: ns + local, st.sampled_from(NAMESPACES), LOCAL),
    st.sampled_from(NAMESPACES),  # a namespace IRI itself (no local part)
    st.just("geo:39.9,46.8"),
    SCHEME_IRIS,
    st.builds(lambda local: "urn:x-test:" + local, LOCAL),
    st.builds(lambda local: "http://example.org/Xocalı/" + local, LOCAL),
).map(ox.NamedNode)
BLANKS = st.sampled_from(["b0", "b1", "b2"]).map(ox.BlankNode)
# Printable text, non-ASCII included; NUL and lone surrogates excluded (pyld's N-Quads parser
# does not read the escapes its own canonical writer does not produce).
TEXT = st.one_of(
    st.sampled_from(["Xocalı", "Ходжалы", "613", "", " ", "a\nb", 'say "x"', "\\", "😀"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)
LANGS = st.sampled_from(["en", "az", "ru", "az-latn", "fr"])
DATATYPES = st.sampled_from(
    [
        "http://www.w3.org/2001/XMLSchema#integer",
        "http://www.w3.org/2001/XMLSchema#date",
        "http://www.w3.org/2001/XMLSchema#boolean",
        BASE + "def/custom",
        "geo:type",
        "urn:x-test:datatype",
    ]
)
LITERALS = st.one_of(
    TEXT.map(ox.Literal),
    st.builds(lambda t, lang: ox.Literal(t, language=lang), TEXT, LANGS),
    st.builds(lambda t, dt: ox.Literal(t, datatype=ox.NamedNode(dt)), TEXT, DATATYPES),
)
GRAPHS = st.one_of(st.just(ox.DefaultGraph()), IRIS, BLANKS)
QUADS = st.lists(
    st.builds(
        ox.Quad,
        st.one_of(IRIS, BLANKS),
        st.one_of(IRIS, st.just(ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"))),
        st.one_of(IRIS, BLANKS, LITERALS),
        GRAPHS,
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(QUADS)
def test_written_jsonld_expands_to_the_same_dataset(quads: list[ox.Quad]) -> None:
    given_dataset, expanded = round_trip(quads)
    assert expanded == given_dataset


def test_an_iri_whose_scheme_is_a_prefix_stays_itself() -> None:
    place = ox.NamedNode(BASE + "id/place/khojaly")
    lat = ox.NamedNode("http://www.w3.org/2003/01/geo/wgs84_pos#lat")
    quads = [
        ox.Quad(
            place,
            ox.NamedNode("https://schema.org/geo"),
            ox.NamedNode("geo:39.9,46.8"),
            ox.DefaultGraph(),
        ),
        ox.Quad(place, lat, ox.Literal("39.9"), ox.DefaultGraph()),
        ox.Quad(
            place,
            ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
            ox.Literal("Xocalı", language="az"),
            ox.DefaultGraph(),
        ),
    ]
    given_dataset, expanded = round_trip(quads)
    assert expanded == given_dataset
    assert "wgs84_pos#39.9" not in expanded
    # rdflib reads it the same way.
    graph = rdflib.Graph().parse(data=compact(quads, prefixes=prefixes(BASE)), format="json-ld")
    assert rdflib.URIRef("geo:39.9,46.8") in set(graph.objects())
