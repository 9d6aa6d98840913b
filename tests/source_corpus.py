"""A corpus of synthetic source documents in the project's own model, for tests and benchmarks.

`write_corpus(out, docs=N, seed=S, invalid=K)` writes a complete data directory:

    out/curated.trig                  the seed's curated entities (data/curated.trig, verbatim)
                                      plus generated shared places, organisations, events, groups
    out/sources/<doc-name>.trig       one file per source document: its own named graph
                                      <graph/<doc-name>> and its provenance in <graph/provenance>

IRIs are relative, like data/, and resolved against the base at build time; use it as `data_dir`
with the project's ontology/ and shapes/. Every document is clearly synthetic ("Synthetic source
00042", published by "Synthetic Publisher 007", about "Synthetic event 0003" in "Synthetic town
012"): the generator shares the model, never real-world facts. About 250 triples per document.

Variety: documents in English, Azerbaijani and Russian (quotes, titles, characterisations in the
document's language; labels of shared entities in en/az/ru); exact figures and lower bounds,
unspecified quantities, characterisations, legal characterisations, attributions of
responsibility, claims, calls, commitments, commemorations with anniversary ordinals that agree
with the dates, resolutions. Several documents speak about the same shared event and give
*different figures* for the same group (see DIFFERENT_FIGURES_QUERY): claims stay claims, each
attributed to its own source.

`invalid=K` turns exactly K documents (spread evenly, English ones) into invalid ones, cycling
through INVALID_KINDS, each a different violation the project's shapes catch; the summary maps
each injected file (relative to `out`) to its kind. Deterministic: same arguments, same bytes.

    .venv/bin/python bench/corpus.py --docs 10000 --seed 1 --invalid 5 --out /tmp/corpus
"""

from __future__ import annotations

import datetime
import functools
import random
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_CURATED = ROOT / "data" / "curated.trig"
# The triples of data/curated.trig (copied verbatim into every corpus); checked by the tests.
CREATED = "2026-11-30"
LANGUAGES = ("en", "en", "en", "en", "az", "ru")  # two thirds English, as a curator's mix might be

PREFIXES = """\
@prefix kg: <def/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix schema: <https://schema.org/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix geo: <http://www.w3.org/2003/01/geo/wgs84_pos#> .
@prefix fabio: <http://purl.org/spar/fabio/> .
"""


@dataclass(frozen=True)
class InvalidKind:
    """One kind of injected error: what is broken, and the shape (relative IRI) that says so."""

    name: str
    shape: str
    what: str


INVALID_KINDS: dict[str, InvalidKind] = {
    k.name: k
    for k in (
        InvalidKind(
            "quote-not-verbatim",
            "shapes/StatementShape",
            "a count's quote (schema:text) is not a substring of the document's text",
        ),
        InvalidKind(
            "lower-bound-as-exact",
            "shapes/CountShape",
            "'more than N' recorded as the exact figure schema:value N",
        ),
        InvalidKind(
            "figure-not-in-quote",
            "shapes/CountShape",
            "a count's schema:value is not the number in its quote",
        ),
        InvalidKind(
            "provenance-created-missing",
            "shapes/NamedGraphShape",
            "the source graph's description in <graph/provenance> has no dct:created",
        ),
        InvalidKind(
            "issued-not-a-date",
            "shapes/DocumentShape",
            "dct:issued of the document is a plain string, not an xsd:date",
        ),
        InvalidKind(
            "label-without-language",
            "shapes/EnglishLabelShape",
            "a statement's rdfs:label has no language tag",
        ),
        InvalidKind(
            "characterisation-not-in-quote",
            "shapes/CharacterisationShape",
            "kg:characterisedAs is not the source's wording (not in its quote)",
        ),
        InvalidKind(
            "attribution-without-agent",
            "shapes/AttributionShape",
            "an attribution names no kg:responsibleAgent",
        ),
        InvalidKind(
            "language-not-a-code",
            "shapes/DocumentShape",
            'dct:language is "English", not a BCP 47 code',
        ),
    )
}


@dataclass
class CorpusSummary:
    docs: int
    files: int
    quads: int
    seed: int
    invalid: dict[str, str] = field(default_factory=dict)  # file relative to out -> kind
    languages: dict[str, int] = field(default_factory=dict)
    shared_events: int = 0
    bytes: int = 0

    def text(self) -> str:
        langs = ", ".join(f"{k} {v}" for k, v in sorted(self.languages.items()))
        lines = [
            f"{self.docs} source documents ({langs}), {self.shared_events} shared events, "
            f"{self.files} files, {self.quads} quads, {self.bytes / 1e6:.1f} MB (seed {self.seed})",
        ]
        lines += [f"  invalid: {path}  ({kind})" for path, kind in sorted(self.invalid.items())]
        return "\n".join(lines)


# The SPARQL query (with the base as prefix `kg:`) that shows different figures for the same
# event and group, each with the document that states it and the graph it sits in.
DIFFERENT_FIGURES_QUERY = """\
PREFIX kg: <{base}def/>
PREFIX schema: <https://schema.org/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dct: <http://purl.org/dc/terms/>
SELECT ?event ?group ?figure1 ?document1 ?figure2 ?document2 WHERE {{
  GRAPH ?graph1 {{ ?count1 kg:about ?event ; kg:countOf ?group ; schema:value ?figure1 ;
                              kg:statedIn ?document1 . }}
  GRAPH ?graph2 {{ ?count2 kg:about ?event ; kg:countOf ?group ; schema:value ?figure2 ;
                              kg:statedIn ?document2 . }}
  GRAPH <{base}graph/provenance> {{
    ?graph1 prov:wasDerivedFrom ?document1 . ?graph2 prov:wasDerivedFrom ?document2 .
  }}
  FILTER (?figure1 < ?figure2 && ?document1 != ?document2)
}}
ORDER BY ?event ?group ?figure1 ?figure2
"""


# --------------------------------------------------------------------------------------------
# Terms and a tiny Turtle writer that counts what it writes


def _q(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{escaped}"'


def _lit(text: str, lang: str) -> str:
    return f"{_q(text)}@{lang}"


def _date(value: str) -> str:
    return f'"{value}"^^xsd:date'


def _iri(relative: str) -> str:
    return f"<{relative}>"


class _Writer:
    """Turtle subject blocks; counts triples (the generator never repeats a triple)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.count = 0

    def node(self, subject: str, *pairs: tuple[str, str | list[str]]) -> None:
        lines = []
        for predicate, objects in pairs:
            values = objects if isinstance(objects, list) else [objects]
            if not values:
                continue
            self.count += len(values)
            lines.append(f"{predicate} {' , '.join(values)}")
        self.parts.append(f"    {subject} " + " ;\n        ".join(lines) + " .\n")

    def text(self) -> str:
        return "".join(self.parts)


# --------------------------------------------------------------------------------------------
# Shared entities (in <graph/curated>)


@dataclass(frozen=True)
class _Shared:
    events: int
    places: int
    regions: int
    publishers: int
    armed_groups: int


def _shared_sizes(docs: int) -> _Shared:
    events = max(2, -(-docs // 4))  # about four documents per event as their main subject
    places = max(2, -(-docs // 20))
    return _Shared(
        events=events,
        places=places,
        regions=max(1, -(-places // 10)),
        publishers=max(2, -(-docs // 25)),
        armed_groups=max(2, -(-docs // 50)),
    )


def _names(kind: str, number: int) -> dict[str, str]:
    """Names of a synthetic shared entity in en/az/ru."""
    n2, n3, n4 = f"{number:02d}", f"{number:03d}", f"{number:04d}"
    return {
        "event": {
            "en": f"Synthetic event {n4}",
            "az": f"Sintetik hadisə {n4}",
            "ru": f"Синтетическое событие {n4}",
        },
        "place": {
            "en": f"Synthetic town {n3}",
            "az": f"Sintetik qəsəbə {n3}",
            "ru": f"Синтетический посёлок {n3}",
        },
        "region": {
            "en": f"Synthetic region {n2}",
            "az": f"Sintetik rayon {n2}",
            "ru": f"Синтетический район {n2}",
        },
        "publisher": {
            "en": f"Synthetic Publisher {n3}",
            "az": f"Sintetik Nəşriyyat {n3}",
            "ru": f"Синтетическое издательство {n3}",
        },
        "armed": {
            "en": f"Synthetic armed group {n2}",
            "az": f"Sintetik silahlı qrup {n2}",
            "ru": f"Синтетическая вооружённая группа {n2}",
        },
    }[kind]


GROUP_KINDS = {
    "killed": {
        "en": "people killed during {e}",
        "az": "«{e}» zamanı həlak olanlar",
        "ru": "погибшие во время события «{e}»",
    },
    "injured": {
        "en": "people injured during {e}",
        "az": "«{e}» zamanı yaralananlar",
        "ru": "раненые во время события «{e}»",
    },
    "displaced": {
        "en": "residents displaced by {e}",
        "az": "«{e}» nəticəsində köçkün düşən sakinlər",
        "ru": "жители, перемещённые в результате события «{e}»",
    },
    "detained": {
        "en": "people detained during {e}",
        "az": "«{e}» zamanı saxlanılanlar",
        "ru": "задержанные во время события «{e}»",
    },
}


@functools.cache
def _event_start(seed: int, event: int) -> tuple[int, int, int]:
    rng = random.Random(f"{seed}:event:{event}")
    return rng.randrange(1988, 2016), rng.randrange(1, 13), rng.randrange(1, 29)


def event_dates(seed: int, event: int) -> tuple[str, str]:
    """A shared event's start and end (the next day): real calendar dates, so the 28th of
    February of a year that is not a leap year ends on the 1st of March, not the 29th."""
    start = datetime.date(*_event_start(seed, event))
    return start.isoformat(), (start + datetime.timedelta(days=1)).isoformat()


@functools.cache
def _event_place(seed: int, event: int, places: int) -> int:
    return random.Random(f"{seed}:event-place:{event}").randrange(places)


@functools.cache
def _event_base_figure(seed: int, event: int) -> int:
    return random.Random(f"{seed}:event-figure:{event}").randrange(40, 900)


def _curated(seed: int, sizes: _Shared) -> _Writer:
    w = _Writer()
    for r in range(sizes.regions):
        names = _names("region", r)
        labels = [_lit(v, k) for k, v in names.items()]
        w.node(
            _iri(f"id/place/synthetic-region-{r:02d}"),
            ("a", ["schema:Place", "schema:AdministrativeArea"]),
            ("rdfs:label", labels),
            ("skos:prefLabel", labels),
        )
    for p in range(sizes.places):
        rng = random.Random(f"{seed}:place:{p}")
        names = _names("place", p)
        labels = [_lit(v, k) for k, v in names.items()]
        point = _iri(f"id/coordinates/synthetic-town-{p:03d}")
        w.node(
            _iri(f"id/place/synthetic-town-{p:03d}"),
            ("a", ["schema:Place", "schema:City"]),
            ("rdfs:label", labels),
            ("skos:prefLabel", labels),
            ("schema:containedInPlace", _iri(f"id/place/synthetic-region-{p % sizes.regions:02d}")),
            ("geo:location", point),
        )
        w.node(
            point,
            ("a", "geo:Point"),
            ("rdfs:label", _lit(f"Coordinates of {names['en']} (synthetic)", "en")),
            ("geo:lat", f"{rng.uniform(-60, 70):.5f}"),
            ("geo:long", f"{rng.uniform(-170, 170):.5f}"),
            ("prov:wasDerivedFrom", _iri("id/document/synthetic-gazetteer")),
        )
    for o in range(sizes.publishers):
        names = _names("publisher", o)
        labels = [_lit(v, k) for k, v in names.items()]
        w.node(
            _iri(f"id/organisation/synthetic-publisher-{o:03d}"),
            ("a", ["org:Organization", "schema:NewsMediaOrganization"]),
            ("rdfs:label", labels),
            ("skos:prefLabel", labels),
            ("schema:location", _iri(f"id/place/synthetic-town-{o % sizes.places:03d}")),
        )
    for o in range(sizes.armed_groups):
        names = _names("armed", o)
        labels = [_lit(v, k) for k, v in names.items()]
        w.node(
            _iri(f"id/organisation/synthetic-armed-group-{o:02d}"),
            ("a", "org:Organization"),
            ("rdfs:label", labels),
            ("skos:prefLabel", labels),
        )
    for e in range(sizes.events):
        names = _names("event", e)
        labels = [_lit(v, k) for k, v in names.items()]
        start, end = event_dates(seed, e)
        w.node(
            _iri(f"id/event/synthetic-event-{e:04d}"),
            ("a", "schema:Event"),
            ("rdfs:label", labels),
            ("skos:prefLabel", labels),
            ("schema:startDate", _date(start)),
            ("schema:endDate", _date(end)),
            (
                "schema:location",
                _iri(f"id/place/synthetic-town-{_event_place(seed, e, sizes.places):03d}"),
            ),
        )
        for kind, templates in GROUP_KINDS.items():
            w.node(
                _iri(f"id/group/synthetic-event-{e:04d}-{kind}"),
                ("a", "kg:Group"),
                ("rdfs:label", [_lit(t.format(e=names[k]), k) for k, t in templates.items()]),
            )
    return w


def _curated_provenance() -> _Writer:
    w = _Writer()
    w.node(_iri("graph/curated"), ("prov:wasDerivedFrom", _iri("id/document/synthetic-gazetteer")))
    w.node(
        _iri("id/document/synthetic-gazetteer"),
        ("a", "schema:Dataset"),
        ("rdfs:label", _lit("Synthetic gazetteer of the generated test corpus", "en")),
    )
    return w


# --------------------------------------------------------------------------------------------
# Source documents

CHARACTERISATIONS = {
    "en": [
        "a deliberate assault",
        "an act of collective punishment",
        "a grave crime against civilians",
        "a senseless act of violence",
    ],
    "az": [
        "qəsdən edilmiş hücum",
        "kollektiv cəza aktı",
        "mülki əhaliyə qarşı ağır cinayət",
        "mənasız zorakılıq aktı",
    ],
    "ru": [
        "преднамеренным нападением",
        "актом коллективного наказания",
        "тяжким преступлением против мирных жителей",
        "бессмысленным актом насилия",
    ],
}
LEGAL = {
    "en": ["a war crime", "a crime against humanity", "a serious violation of humanitarian law"],
    "az": ["müharibə cinayəti", "insanlığa qarşı cinayət", "humanitar hüququn ciddi pozuntusu"],
    "ru": [
        "военным преступлением",
        "преступлением против человечности",
        "серьёзным нарушением гуманитарного права",
    ],
}
CATEGORIES = {
    "en": ["children", "women", "elderly people"],
    "az": ["uşaqlar", "qadınlar", "yaşlılar"],
    "ru": ["дети", "женщины", "пожилые люди"],
}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _number(n: int, lang: str) -> str:
    return f"{n:,}" if lang == "en" else str(n)


# Sentences per language; each statement quotes one sentence or a part of it (marked quote=...).
SENTENCES: dict[str, dict[str, str]] = {
    "en": {
        "intro": "{source} is a generated test document about {E} in {P}; it reports no "
        "real-world facts.",
        "killed": "{K} people, including {cats}, were killed during {E}.",
        "injured": "{I} people were injured.",
        "displaced": "More than {D} residents of {P} were forced to leave their homes.",
        "detained": "{T} people were detained.",
        "attack": "The attack began at dawn after {H} hours of shelling.",
        "attribution": "The source holds {O} responsible for the attack.",
        "characterisation": "It calls the attack {C}.",
        "legal": "According to the source, the killings amount to {L}.",
        "resolutions": "So far {R} resolutions condemning {E} have been adopted by numerous "
        "bodies.",
        "resolutions-quote": "{R} resolutions condemning {E}",
        "bodies-quote": "numerous bodies",
        "second": "The source also states that more than {K2} people were killed during {E2}.",
        "anniversary": "This year marks the {ORD} anniversary of {E}.",
        "call": "{PUB} calls on the international community to investigate {E} and to support "
        "the victims.",
        "call-for-1": "to investigate {E}",
        "call-for-2": "to support the victims",
        "commitment": "{PUB} will continue to remember the victims of {E}.",
        "commits-to": "to remember the victims of {E}",
        "incident": "During the incident at checkpoint {J}, {X} people were wounded.",
        "name-used": "the tragedy of {E}",
        "title": "{source}: statement on {E}",
    },
    "az": {
        "intro": "{source} «{E}» ({P}) haqqında yaradılmış test sənədidir; burada real faktlar "
        "yoxdur.",
        "killed": "«{E}» zamanı {K} nəfər, o cümlədən {cats} həlak olub.",
        "injured": "{I} nəfər yaralanıb.",
        "displaced": "{P} sakinlərindən {D} nəfərdən çoxu evlərini tərk etməyə məcbur olub.",
        "detained": "{T} nəfər saxlanılıb.",
        "attack": "Hücum {H} saatlıq atəşdən sonra sübh çağı başlayıb.",
        "attribution": "Mənbə hücumun məsuliyyətini «{O}» üzərinə qoyur.",
        "characterisation": "Mənbə hücumu {C} adlandırır.",
        "legal": "Mənbəyə görə, qətllər {L} təşkil edir.",
        "resolutions": "İndiyədək «{E}» hadisəsini pisləyən {R} qətnamə çoxsaylı qurumlar "
        "tərəfindən qəbul edilib.",
        "resolutions-quote": "«{E}» hadisəsini pisləyən {R} qətnamə",
        "bodies-quote": "çoxsaylı qurumlar",
        "second": "Mənbə həmçinin bildirir ki, «{E2}» zamanı {K2} nəfərdən çox insan həlak olub.",
        "anniversary": "Bu il «{E}» hadisəsinin {ORD} illiyi qeyd olunur.",
        "call": "{PUB} beynəlxalq ictimaiyyəti «{E}» hadisəsini araşdırmağa və qurbanlara dəstək "
        "olmağa çağırır.",
        "call-for-1": "«{E}» hadisəsini araşdırmağa",
        "call-for-2": "qurbanlara dəstək olmağa",
        "commitment": "{PUB} «{E}» qurbanlarını anmağa davam edəcək.",
        "commits-to": "«{E}» qurbanlarını anmağa",
        "incident": "{J} saylı keçid məntəqəsindəki insident zamanı {X} nəfər yaralanıb.",
        "name-used": "«{E}» faciəsi",
        "title": "{source}: «{E}» haqqında bəyanat",
    },
    "ru": {
        "intro": "{source} — сгенерированный тестовый документ о событии «{E}» ({P}); реальных "
        "фактов он не содержит.",
        "killed": "Во время события «{E}» погибли {K} человек, в том числе {cats}.",
        "injured": "Ранены {I} человек.",
        "displaced": "Более {D} жителей населённого пункта «{P}» были вынуждены покинуть свои "
        "дома.",
        "detained": "Задержаны {T} человек.",
        "attack": "Нападение началось на рассвете после {H} часов обстрела.",
        "attribution": "Источник возлагает ответственность за нападение на организацию «{O}».",
        "characterisation": "Источник называет нападение {C}.",
        "legal": "По словам источника, эти убийства являются {L}.",
        "resolutions": "К настоящему времени многочисленные органы приняли {R} резолюций, "
        "осуждающих событие «{E}».",
        "resolutions-quote": "{R} резолюций, осуждающих событие «{E}»",
        "bodies-quote": "многочисленные органы",
        "second": "Источник также сообщает, что во время события «{E2}» погибли более {K2} "
        "человек.",
        "anniversary": "В этом году исполняется {ORD} лет со дня события «{E}».",
        "call": "{PUB} призывает международное сообщество расследовать событие «{E}» и "
        "поддержать пострадавших.",
        "call-for-1": "расследовать событие «{E}»",
        "call-for-2": "поддержать пострадавших",
        "commitment": "{PUB} будет и впредь чтить память жертв события «{E}».",
        "commits-to": "чтить память жертв события «{E}»",
        "incident": "Во время инцидента на блокпосту № {J} ранены {X} человек.",
        "name-used": "трагедия «{E}»",
        "title": "{source}: заявление о событии «{E}»",
    },
}
SOURCE_NAME = {
    "en": "Synthetic source {n}",
    "az": "Sintetik mənbə {n}",
    "ru": "Синтетический источник {n}",
}


LOCAL_EVENT_LABELS = {
    "attack": {
        "en": "attack during {E}, as described by {S}",
        "az": "«{E}» zamanı hücum ({S})",
        "ru": "нападение во время события «{E}» ({S})",
    },
    "killings": {
        "en": "killings during {E}, as described by {S}",
        "az": "«{E}» zamanı qətllər ({S})",
        "ru": "убийства во время события «{E}» ({S})",
    },
    "incident": {
        "en": "incident at checkpoint {J} during {E}, as described by {S}",
        "az": "«{E}» zamanı {J} saylı keçid məntəqəsindəki insident ({S})",
        "ru": "инцидент на блокпосту № {J} во время события «{E}» ({S})",
    },
}


def _local_event_labels(slug: str, e_names: dict[str, str], n: str, j: int = 0) -> list[str]:
    """Labels of a document's own sub-event in en/az/ru (one per language)."""
    return [
        _lit(t.format(E=e_names[lang], S=SOURCE_NAME[lang].format(n=n), J=j), lang)
        for lang, t in LOCAL_EVENT_LABELS[slug].items()
    ]


def doc_name(index: int) -> str:
    return f"synthetic-source-{index:05d}"


def _source_document(
    index: int, *, seed: int, sizes: _Shared, lang: str, kind: str | None
) -> tuple[str, int]:
    """The TriG text of one source document and its number of quads."""
    rng = random.Random(f"{seed}:doc:{index}")
    name = doc_name(index)
    n = f"{index:05d}"
    event = index % sizes.events
    position = index // sizes.events  # the how-many-th document about this event
    event2 = (event + 1 + rng.randrange(sizes.events - 1)) % sizes.events
    publisher = rng.randrange(sizes.publishers)
    armed = rng.randrange(sizes.armed_groups)
    place = _event_place(seed, event, sizes.places)
    year, month, day = _event_start(seed, event)
    ordinal = rng.randrange(1, 36)
    issued = f"{year + ordinal:04d}-{month:02d}-{day:02d}"

    # Figures: documents about the same event differ (each position gets its own band).
    base = _event_base_figure(seed, event)
    killed = base + 3 * position + rng.randrange(3)
    injured = 2 * base + 5 * position + rng.randrange(5)
    displaced = (10 + position) * 500
    detained = base // 3 + 2 * position + rng.randrange(2)
    killed2 = (_event_base_figure(seed, event2) // 10) * 10
    resolutions = rng.randrange(2, 40)
    hours = rng.randrange(2, 12)
    incidents = rng.randrange(4, 10)

    S = SENTENCES[lang]
    e_names, e2_names = _names("event", event), _names("event", event2)
    values = {
        "source": SOURCE_NAME[lang].format(n=n),
        "E": e_names[lang],
        "E2": e2_names[lang],
        "P": _names("place", place)[lang],
        "PUB": _names("publisher", publisher)[lang],
        "O": _names("armed", armed)[lang],
        "cats": ", ".join(CATEGORIES[lang][:-1])
        + (" and " if lang == "en" else " və " if lang == "az" else " и ")
        + CATEGORIES[lang][-1],
        "K": _number(killed, lang),
        "I": _number(injured, lang),
        "D": _number(displaced, lang),
        "T": _number(detained, lang),
        "K2": _number(killed2, lang),
        "R": str(resolutions),
        "H": str(hours),
        "ORD": _ordinal(ordinal) if lang == "en" else str(ordinal),
        "C": CHARACTERISATIONS[lang][rng.randrange(len(CHARACTERISATIONS[lang]))],
        "L": LEGAL[lang][rng.randrange(len(LEGAL[lang]))],
    }

    def say(key: str, **extra: str) -> str:
        return S[key].format(**values, **extra)

    incident_sentences = []
    incident_figures = []
    for j in range(incidents):
        wounded = rng.randrange(3, 60)
        incident_figures.append(wounded)
        incident_sentences.append(say("incident", J=str(j + 1), X=_number(wounded, lang)))
    paragraphs = [
        [say("intro"), say("anniversary")],
        [say("attack"), say("killed"), say("injured"), say("displaced"), say("detained")],
        incident_sentences,
        [say("attribution"), say("characterisation"), say("legal")],
        [say("resolutions"), say("second")],
        [say("call"), say("commitment")],
    ]
    text = "\n\n".join(" ".join(p) for p in paragraphs)

    doc = _iri(f"id/document/{name}")
    graph = _iri(f"graph/{name}")
    main_event = _iri(f"id/event/synthetic-event-{event:04d}")
    event2_iri = _iri(f"id/event/synthetic-event-{event2:04d}")
    publisher_iri = _iri(f"id/organisation/synthetic-publisher-{publisher:03d}")
    armed_iri = _iri(f"id/organisation/synthetic-armed-group-{armed:02d}")
    place_iri = _iri(f"id/place/synthetic-town-{place:03d}")
    source_en = SOURCE_NAME["en"].format(n=n)
    e_en = e_names["en"]

    def local(kind_: str, slug: str) -> str:
        return _iri(f"id/{kind_}/{name}-{slug}")

    def group(kind_: str, of: int = event) -> str:
        return _iri(f"id/group/synthetic-event-{of:04d}-{kind_}")

    def q(sentence: str) -> str:
        return _lit(sentence, lang)

    def label(text_en: str) -> str:
        if kind == "label-without-language":
            return _q(text_en)
        return _lit(text_en, "en")

    w = _Writer()
    # ----- the document
    title = say("title")
    w.node(
        doc,
        ("a", "fabio:PressRelease"),
        (
            "rdfs:label",
            [_lit(SENTENCES["en"]["title"].format(source=source_en, E=e_en), "en")]
            + ([_lit(title, lang)] if lang != "en" else []),
        ),
        ("dct:title", _lit(title, lang)),
        ("dct:publisher", publisher_iri),
        ("dct:issued", _q(issued) if kind == "issued-not-a-date" else _date(issued)),
        ("schema:locationCreated", place_iri),
        ("dct:language", _q("English" if kind == "language-not-a-code" else lang)),
        ("schema:about", [main_event, event2_iri]),
        ("schema:text", _lit(text, lang)),
    )
    # ----- the commemoration, the shared event as this source names it, local sub-events
    w.node(
        local("commemoration", "anniversary"),
        ("a", "kg:Commemoration"),
        ("rdfs:label", _lit(f"{_ordinal(ordinal)} anniversary of {e_en}, {issued}", "en")),
        ("kg:commemorates", main_event),
        ("kg:anniversaryOrdinal", str(ordinal)),
        ("schema:startDate", _date(issued)),
        ("kg:commemoratedBy", publisher_iri),
    )
    w.node(main_event, ("kg:nameUsed", _lit(say("name-used"), lang)))
    for slug in ("attack", "killings"):
        w.node(
            local("event", slug),
            ("a", "schema:Event"),
            ("rdfs:label", _local_event_labels(slug, e_names, n)),
            ("schema:superEvent", main_event),
            ("schema:location", place_iri),
            *([("kg:carriedOutBy", armed_iri)] if slug == "attack" else []),
        )
    for j in range(incidents):
        w.node(
            local("event", f"incident-{j + 1}"),
            ("a", "schema:Event"),
            ("rdfs:label", _local_event_labels("incident", e_names, n, j + 1)),
            ("schema:superEvent", main_event),
            ("schema:location", place_iri),
            ("kg:involvedAgent", armed_iri),
        )
    # ----- groups and resolutions named only by this source
    addressees = local("group", "international-community")
    w.node(
        addressees,
        ("a", "kg:Group"),
        ("rdfs:label", _lit(f"international community addressed by {source_en}", "en")),
    )
    bodies = local("group", "adopting-bodies")
    w.node(
        bodies,
        ("a", "kg:Group"),
        ("rdfs:label", _lit(f"bodies that adopted resolutions on {e_en}", "en")),
    )
    resolution_set = local("resolution", "resolutions")
    w.node(
        resolution_set,
        ("a", "kg:ResolutionSet"),
        ("rdfs:label", _lit(f"resolutions condemning {e_en}, according to {source_en}", "en")),
        ("kg:adoptedBy", bodies),
        ("kg:condemns", main_event),
    )

    # ----- counts
    def count(
        slug: str,
        *,
        about: str,
        of: str,
        label_en: str,
        quote: str,
        unit: str,
        value: int | None = None,
        lower: int | None = None,
        extra: tuple[tuple[str, str | list[str]], ...] = (),
    ) -> None:
        w.node(
            local("count", slug),
            ("a", "kg:Count"),
            ("rdfs:label", label(f"{label_en}, according to {source_en}")),
            ("kg:statedIn", doc),
            ("kg:about", about),
            ("kg:countOf", of),
            *([("schema:value", str(value))] if value is not None else []),
            *([("kg:minExclusive", str(lower))] if lower is not None else []),
            ("schema:unitText", _q(unit)),
            *extra,
            ("schema:text", q(quote)),
        )

    killed_quote = say("killed")
    count(
        "killed",
        about=main_event,
        of=group("killed"),
        label_en=f"{killed:,} people killed during {e_en}",
        quote=killed_quote,
        unit="people",
        value=killed,
        extra=(("kg:includesCategory", [_lit(c, lang) for c in CATEGORIES[lang]]),),
    )
    injured_quote = say("injured")
    count(
        "injured",
        about=main_event,
        of=group("injured"),
        label_en=f"{injured:,} people injured during {e_en}",
        quote=injured_quote + (" [paraphrased]" if kind == "quote-not-verbatim" else ""),
        unit="people",
        value=injured + (1 if kind == "figure-not-in-quote" else 0),
    )
    count(
        "displaced",
        about=main_event,
        of=group("displaced"),
        label_en=f"more than {displaced:,} residents displaced by {e_en}",
        quote=say("displaced"),
        unit="residents",
        value=displaced if kind == "lower-bound-as-exact" else None,
        lower=None if kind == "lower-bound-as-exact" else displaced,
    )
    count(
        "detained",
        about=main_event,
        of=group("detained"),
        label_en=f"{detained:,} people detained during {e_en}",
        quote=say("detained"),
        unit="people",
        value=detained,
    )
    count(
        "killed-other-event",
        about=event2_iri,
        of=group("killed", event2),
        label_en=f"more than {killed2:,} people killed during {e2_names['en']}",
        quote=say("second"),
        unit="people",
        lower=killed2,
    )
    count(
        "resolutions",
        about=resolution_set,
        of=resolution_set,
        label_en=f"{resolutions} resolutions condemning {e_en}",
        quote=say("resolutions-quote"),
        unit="resolutions",
        value=resolutions,
    )
    count(
        "adopting-bodies",
        about=resolution_set,
        of=bodies,
        label_en="numerous bodies adopted resolutions (number not given)",
        quote=say("bodies-quote"),
        unit="bodies",
    )
    for j, wounded in enumerate(incident_figures):
        count(
            f"incident-{j + 1}-wounded",
            about=local("event", f"incident-{j + 1}"),
            of=group("injured"),
            label_en=f"{wounded} people wounded at checkpoint {j + 1}",
            quote=incident_sentences[j],
            unit="people",
            value=wounded,
        )

    # ----- characterisations, attributions, claims, the call and the commitment
    def statement(
        slug: str,
        types: list[str],
        label_en: str,
        quote: str,
        about: list[str],
        *extra: tuple[str, str | list[str]],
    ) -> None:
        w.node(
            local("statement", slug),
            ("a", types),
            ("rdfs:label", label(f"{label_en}, according to {source_en}")),
            ("kg:statedIn", doc),
            ("kg:about", about),
            *extra,
            ("schema:text", q(quote)),
        )

    statement(
        "characterisation",
        ["kg:Characterisation"],
        "The source characterises the attack",
        say("characterisation"),
        [local("event", "attack")],
        (
            "kg:characterisedAs",
            _lit("a heroic act", "en")
            if kind == "characterisation-not-in-quote"
            else _lit(values["C"], lang),
        ),
    )
    statement(
        "legal",
        ["kg:LegalCharacterisation"],
        "The source characterises the killings in legal terms",
        say("legal"),
        [local("event", "killings")],
        ("kg:characterisedAs", _lit(values["L"], lang)),
    )
    statement(
        "attribution",
        ["kg:Attribution"],
        f"The source holds {_names('armed', armed)['en']} responsible for the attack",
        say("attribution"),
        [local("event", "attack")],
        *([] if kind == "attribution-without-agent" else [("kg:responsibleAgent", armed_iri)]),
    )
    statement(
        "attack-timing",
        ["kg:Claim"],
        "The source says when the attack began",
        say("attack"),
        [local("event", "attack")],
    )
    statement(
        "anniversary",
        ["kg:Claim"],
        f"The source marks the {_ordinal(ordinal)} anniversary of {e_en}",
        say("anniversary"),
        [local("commemoration", "anniversary"), main_event],
    )
    statement(
        "call",
        ["kg:Call"],
        f"The call of {_names('publisher', publisher)['en']} on the international community",
        say("call"),
        [main_event],
        ("kg:voicedBy", publisher_iri),
        ("kg:addressee", addressees),
        ("kg:callsFor", [_lit(say("call-for-1"), lang), _lit(say("call-for-2"), lang)]),
    )
    statement(
        "commitment",
        ["kg:Commitment"],
        f"The commitment of {_names('publisher', publisher)['en']} to remember the victims",
        say("commitment"),
        [main_event],
        ("kg:voicedBy", publisher_iri),
        ("kg:commitsTo", _lit(say("commits-to"), lang)),
    )

    prov = _Writer()
    prov.node(
        graph,
        ("a", "kg:SourceGraph"),
        ("rdfs:label", _lit(f"Statements of {source_en} (synthetic test document)", "en")),
        (
            "dct:description",
            _lit(
                f"Everything taken from {source_en}, a generated document of the synthetic "
                "test corpus, attributed to it: its figures and characterisations are its own, "
                "not fact.",
                "en",
            ),
        ),
        ("prov:wasDerivedFrom", doc),
        ("prov:wasAttributedTo", publisher_iri),
        *([] if kind == "provenance-created-missing" else [("dct:created", _date(CREATED))]),
        ("dct:modified", _date(CREATED)),
    )
    prov.node(
        doc,
        ("dct:publisher", publisher_iri),
        ("dct:issued", _q(issued) if kind == "issued-not-a-date" else _date(issued)),
    )
    header = (
        f"# {source_en}: a generated source document of the synthetic test corpus "
        f"(seed {seed}, language {lang}). Not a real document; it states no real-world facts.\n"
    )
    if kind:
        header += f"# INVALID on purpose ({kind}): {INVALID_KINDS[kind].what}.\n"
    body = (
        f"{header}\n{PREFIXES}\n{graph} {{\n{w.text()}}}\n\n"
        f"<graph/provenance> {{\n{prov.text()}}}\n"
    )
    return body, w.count + prov.count


def invalid_indices(docs: int, invalid: int) -> list[int]:
    """Which documents are made invalid: `invalid` of them, spread evenly."""
    if not 0 <= invalid <= docs:
        raise ValueError(f"invalid={invalid} must be between 0 and docs={docs}")
    return [(k * docs) // invalid for k in range(invalid)] if invalid else []


def write_corpus(out: Path, *, docs: int, seed: int = 1, invalid: int = 0) -> CorpusSummary:
    """Write the corpus's data directory into `out` (created; existing files overwritten)."""
    if docs < 1:
        raise ValueError("docs must be at least 1")
    sizes = _shared_sizes(docs)
    broken = dict(
        zip(
            invalid_indices(docs, invalid),
            (list(INVALID_KINDS)[k % len(INVALID_KINDS)] for k in range(invalid)),
            strict=True,
        )
    )
    out = Path(out)
    (out / "sources").mkdir(parents=True, exist_ok=True)
    summary = CorpusSummary(docs=docs, files=0, quads=0, seed=seed, shared_events=sizes.events)

    curated = _curated(seed, sizes)
    curated_prov = _curated_provenance()
    seed_text = SEED_CURATED.read_text(encoding="utf-8")
    curated_text = (
        f"{seed_text}\n"
        "# ---------------------------------------------------------------------------------\n"
        f"# Generated shared entities of the synthetic test corpus (seed {seed}, {docs} "
        "documents):\n# synthetic places, publishers, armed groups, events and groups. Not "
        "real-world data.\n"
        "# ---------------------------------------------------------------------------------\n"
        f"{PREFIXES}\n<graph/curated> {{\n{curated.text()}}}\n\n"
        f"<graph/provenance> {{\n{curated_prov.text()}}}\n"
    )
    summary.bytes += _write(out / "curated.trig", curated_text)
    summary.quads += _seed_curated_quads() + curated.count + curated_prov.count
    summary.files += 1

    for index in range(docs):
        kind = broken.get(index)
        lang = "en" if kind else LANGUAGES[random.Random(f"{seed}:lang:{index}").randrange(6)]
        text, quads = _source_document(index, seed=seed, sizes=sizes, lang=lang, kind=kind)
        path = out / "sources" / f"{doc_name(index)}.trig"
        summary.bytes += _write(path, text)
        summary.quads += quads
        summary.files += 1
        summary.languages[lang] = summary.languages.get(lang, 0) + 1
        if kind:
            summary.invalid[str(path.relative_to(out))] = kind
    return summary


def _write(path: Path, text: str) -> int:
    data = text.encode("utf-8")
    path.write_bytes(data)
    return len(data)


_SEED_QUADS: list[int] = []


def _seed_curated_quads() -> int:
    """Quads of data/curated.trig, counted by parsing it (it is copied verbatim)."""
    if not _SEED_QUADS:
        import pyoxigraph as ox

        with SEED_CURATED.open("rb") as stream:
            quads = set(ox.parse(stream, format=ox.RdfFormat.TRIG, base_iri="http://x.invalid/"))
        _SEED_QUADS.append(len(quads))
    return _SEED_QUADS[0]
