"""Prefixes used in every serialization, the JSON-LD @context, the query page and the HTML."""

from __future__ import annotations

STANDARD_PREFIXES: dict[str, str] = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "org": "http://www.w3.org/ns/org#",
    "geo": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "geosparql": "http://www.opengis.net/ont/geosparql#",
    "time": "http://www.w3.org/2006/time#",
    "fabio": "http://purl.org/spar/fabio/",
    "eli": "http://data.europa.eu/eli/ontology#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vann": "http://purl.org/vocab/vann/",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "sh": "http://www.w3.org/ns/shacl#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "spdx": "http://spdx.org/rdf/terms#",
    "wd": "http://www.wikidata.org/entity/",
    "dbr": "http://dbpedia.org/resource/",
    "gn": "https://sws.geonames.org/",
}


def prefixes(base: str) -> dict[str, str]:
    """All prefixes for a dataset published under `base` (its own ontology is `kg:`)."""
    return {
        **STANDARD_PREFIXES,
        "kg": base + "def/",
        "id": base + "id/",
        "graph": base + "graph/",
    }


def jsonld_context(base: str) -> dict[str, object]:
    """The published @context (served at /context.jsonld and written to dist/).

    No @base: documents keep absolute IRIs so they mean the same wherever they are saved.
    """
    return {"@context": prefixes(base)}
