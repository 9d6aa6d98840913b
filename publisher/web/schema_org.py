"""schema.org JSON-LD for search engines, and "cite this dataset".

The home page carries a schema.org `Dataset` (what Google Dataset Search reads), built from
the dataset description the build wrote (dist/void.ttl: title, description, licence,
publisher, distributions) and the build's identity (version = build id, dateModified = build
time). Resource pages carry a small schema.org node (type by class, name, url, sameAs from
owl:sameAs / skos:exactMatch only: skos:closeMatch is not identity).

What a source calls a thing (kg:nameUsed, e.g. "Khojaly genocide") is deliberately not an
`alternateName`: that would restate a source's characterisation as a neutral name.

The JSON is escaped for a ``<script>`` element: ``<``, ``>`` and ``&`` only occur inside
strings in JSON, and are written as \\u escapes, so no label can close the element.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import pyoxigraph as ox

from publisher.dist import BuildInfo
from publisher.namespaces import STANDARD_PREFIXES

SCHEMA = STANDARD_PREFIXES["schema"]
DCT = STANDARD_PREFIXES["dct"]
DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
FOAF = "http://xmlns.com/foaf/0.1/"
OWL = STANDARD_PREFIXES["owl"]
SKOS = STANDARD_PREFIXES["skos"]
GEO = "http://www.w3.org/2003/01/geo/wgs84_pos#"
IANA_MEDIA_TYPES = "http://www.iana.org/assignments/media-types/"
CONTEXT = "https://schema.org"

# Classes of the data -> the schema.org type a resource page declares (first match wins).
TYPE_BY_CLASS: tuple[tuple[str, str], ...] = (
    (SCHEMA + "Event", "Event"),
    ("def/Commemoration", "Event"),
    (SCHEMA + "City", "City"),
    (SCHEMA + "Country", "Country"),
    (SCHEMA + "Place", "Place"),
    (SCHEMA + "GovernmentOrganization", "GovernmentOrganization"),
    (STANDARD_PREFIXES["org"] + "Organization", "Organization"),
    (SCHEMA + "Organization", "Organization"),
    ("http://purl.org/spar/fabio/PressRelease", "Article"),
    (SCHEMA + "Article", "Article"),
    (SCHEMA + "CreativeWork", "CreativeWork"),
    ("def/Statement", "CreativeWork"),
    ("def/Claim", "Claim"),
    ("def/Count", "Claim"),
    ("def/Characterisation", "Claim"),
    ("def/LegalCharacterisation", "Claim"),
    ("def/Attribution", "Claim"),
    ("def/Call", "CreativeWork"),
    ("def/Commitment", "CreativeWork"),
    (SCHEMA + "Dataset", "Dataset"),
    (DCAT + "Dataset", "Dataset"),
    (VOID + "Dataset", "Dataset"),
)
SAME_AS = (OWL + "sameAs", SKOS + "exactMatch")


def script_json(value: object) -> str:
    """JSON text safe inside <script type="application/ld+json">."""
    text = json.dumps(value, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _objects(quads: Iterable[ox.Quad], subject: ox.Term, predicate: str) -> list[ox.Term]:
    found: dict[ox.Term, None] = {}
    for quad in quads:
        if quad.subject == subject and quad.predicate.value == predicate:
            found.setdefault(quad.object)
    return list(found)


def _first_text(quads: Sequence[ox.Quad], subject: ox.Term, predicate: str) -> str | None:
    literals = [o for o in _objects(quads, subject, predicate) if isinstance(o, ox.Literal)]
    literals.sort(key=lambda lit: (lit.language not in ("en", None), lit.value))
    return literals[0].value if literals else None


# -- resource pages ---------------------------------------------------------------------------
def resource_node(
    *,
    iri: str,
    url: str,
    name: str,
    name_lang: str | None,
    description: str | None,
    quads: Sequence[ox.Quad],
    base: str,
    dates: tuple[date, date | None] | None,
) -> dict[str, object]:
    """The schema.org node of a resource page."""
    subject = ox.NamedNode(iri)
    classes = {o.value for o in _objects(quads, subject, STANDARD_PREFIXES["rdf"] + "type")}
    kind = "Thing"
    for cls, schema_type in TYPE_BY_CLASS:
        if (base + cls if cls.startswith("def/") else cls) in classes:
            kind = schema_type
            break
    node: dict[str, object] = {"@context": CONTEXT, "@type": kind, "@id": iri, "url": url}
    node["name"] = {"@value": name, "@language": name_lang} if name_lang else name
    if description:
        node["description"] = description
    same = sorted(
        {
            o.value
            for predicate in SAME_AS
            for o in _objects(quads, subject, predicate)
            if isinstance(o, ox.NamedNode)
        }
    )
    if same:
        node["sameAs"] = same
    if dates and kind == "Event":
        node["startDate"] = dates[0].isoformat()
        if dates[1]:
            node["endDate"] = dates[1].isoformat()
    if dates and kind in ("Article", "CreativeWork"):
        node["datePublished"] = dates[0].isoformat()
    return node


# -- the home page: the Dataset ------------------------------------------------------------------
@dataclass(frozen=True)
class Citation:
    text: str
    bibtex: str
    csl_json: str
    version: str
    date: str
    url: str


def _void_facts(void: Sequence[ox.Quad], dataset: ox.NamedNode) -> dict[str, object]:
    publisher = next(iter(_objects(void, dataset, DCT + "publisher")), None)
    publisher_name = _first_text(void, publisher, FOAF + "name") if publisher else None
    licence = next(
        (o.value for o in _objects(void, dataset, DCT + "license") if isinstance(o, ox.NamedNode)),
        None,
    )
    return {
        "title": _first_text(void, dataset, DCT + "title"),
        "description": _first_text(void, dataset, DCT + "description"),
        "publisher": publisher_name,
        "license": licence,
    }


def dataset_node(
    *,
    void: Sequence[ox.Quad],
    info: BuildInfo,
    title: str,
    keywords: Sequence[str],
    places: Sequence[dict[str, object]],
    temporal: tuple[date, date] | None,
) -> dict[str, object]:
    """A schema.org Dataset for the home page, from the VoID/DCAT description and the build."""
    base = info.base
    dataset = ox.NamedNode(base + "dataset")
    facts = _void_facts(void, dataset)
    name = str(facts["title"] or title)
    description = str(facts["description"] or name)
    if len(description) < 50:  # Google wants 50 to 5,000 characters
        description += " Linked data: RDF dumps and a SPARQL endpoint."
    publisher = {"@type": "Organization", "name": facts["publisher"] or name}
    node: dict[str, object] = {
        "@context": CONTEXT,
        "@type": "Dataset",
        "@id": base + "dataset",
        "name": name,
        "description": description[:5000],
        "url": base,
        "sameAs": base + "dataset",
        "version": info.build_id,
        "dateModified": info.built_at,
        "isAccessibleForFree": True,
        "creator": publisher,
        "publisher": publisher,
        "keywords": list(keywords),
        "inLanguage": "en",
    }
    if facts["license"]:
        node["license"] = facts["license"]
    node["distribution"] = _distributions(void, dataset)
    node["subjectOf"] = {
        "@type": "WebAPI",
        "name": "SPARQL 1.1 endpoint",
        "description": "SPARQL 1.1 Protocol endpoint over the whole dataset (read-only).",
        "url": base + "sparql",
        "documentation": base + "sparql",
    }
    if places:
        node["spatialCoverage"] = list(places)
    if temporal:
        node["temporalCoverage"] = f"{temporal[0].isoformat()}/{temporal[1].isoformat()}"
    return node


def _distributions(void: Sequence[ox.Quad], dataset: ox.NamedNode) -> list[dict[str, object]]:
    """The dumps (dcat:distribution with a download URL and a media type), by URL."""
    found = []
    for distribution in _objects(void, dataset, DCAT + "distribution"):
        url = next(iter(_objects(void, distribution, DCAT + "downloadURL")), None)
        media = next(iter(_objects(void, distribution, DCAT + "mediaType")), None)
        if not isinstance(url, ox.NamedNode) or not isinstance(media, ox.NamedNode):
            continue
        encoding = media.value.removeprefix(IANA_MEDIA_TYPES)
        compressed = next(iter(_objects(void, distribution, DCAT + "compressFormat")), None)
        entry: dict[str, object] = {
            "@type": "DataDownload",
            "contentUrl": url.value,
            "encodingFormat": encoding,
        }
        if isinstance(compressed, ox.NamedNode):
            entry["description"] = (
                f"{encoding}, compressed as {compressed.value.removeprefix(IANA_MEDIA_TYPES)}"
            )
        size = next(iter(_objects(void, distribution, DCAT + "byteSize")), None)
        if isinstance(size, ox.Literal):
            entry["contentSize"] = f"{size.value} B"
        found.append(entry)
    found.sort(key=lambda d: str(d["contentUrl"]))
    return found


def place_node(name: str, lat: float | None, long: float | None, url: str) -> dict[str, object]:
    node: dict[str, object] = {"@type": "Place", "name": name, "url": url}
    if lat is not None and long is not None:
        node["geo"] = {"@type": "GeoCoordinates", "latitude": lat, "longitude": long}
    return node


def citation(*, void: Sequence[ox.Quad], info: BuildInfo, title: str, url: str) -> Citation:
    """How to cite this build: publisher, year, title, version (build id), date, URL."""
    facts = _void_facts(void, ox.NamedNode(info.base + "dataset"))
    name = str(facts["title"] or title)
    author = str(facts["publisher"] or name)
    built = info.built_at[:10]
    year = built[:4]
    text = f"{author} ({year}). {name} (version {info.build_id}, built {built}) [Data set]. {url}"
    key = "dataset" + info.build_id.replace("-", "")[:12]
    bibtex = (
        f"@misc{{{key},\n"
        f"  author       = {{{{{_bibtex_escape(author)}}}}},\n"
        f"  title        = {{{{{_bibtex_escape(name)}}}}},\n"
        f"  year         = {{{year}}},\n"
        f"  version      = {{{_bibtex_escape(info.build_id)}}},\n"
        f"  howpublished = {{\\url{{{url}}}}},\n"
        f"  note         = {{Data set, built {built}}}\n"
        "}"
    )
    csl = {
        "id": key,
        "type": "dataset",
        "title": name,
        "author": [{"literal": author}],
        "issued": {"date-parts": [[int(part) for part in built.split("-")]]},
        "version": info.build_id,
        "URL": url,
    }
    return Citation(
        text=text,
        bibtex=bibtex,
        csl_json=json.dumps(csl, ensure_ascii=False, indent=2),
        version=info.build_id,
        date=built,
        url=url,
    )


def _bibtex_escape(text: str) -> str:
    for char in "\\{}":
        text = text.replace(char, "")
    for char in "&%$#_":
        text = text.replace(char, "\\" + char)
    return text
