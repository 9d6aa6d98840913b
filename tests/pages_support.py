"""A second, synthetic source for the page tests: other figures for the same event, and
hostile, non-ASCII labels (quotes, <, &, "</script>", Azerbaijani and Russian).

`two_sources_data(directory)` writes the seed's data files plus this source into
`directory`; the dataset built from it passes the project's shapes like the seed does.
"""

from __future__ import annotations

from pathlib import Path

from support import ROOT

HOSTILE = 'Synthetic "report" </script><svg onload=alert(1)> & <b>Xocalı</b> — Ходжалы'
PUBLISHER = "Synthetic 'publisher' <i>&amp;</i> Ходжалы </script>"
SECOND_FIGURE = 485  # a made-up figure for the test, different from the seed's 613
SECOND_DATE = "2024-03-01"
SECOND_QUOTE = "485 people were killed"
SECOND_TERM = "tragedy"
TEXT = (
    "In Xocalı (Ходжалы) on 25-26 February 1992, 485 people were killed, the report says. "
    'It calls the events a tragedy. </script><b>&amp;</b> "quoted"'
)


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


SECOND_SOURCE = f"""
@prefix kg: <def/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix schema: <https://schema.org/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix fabio: <http://purl.org/spar/fabio/> .

<graph/curated> {{
    <id/organisation/synthetic-publisher> a org:Organization ;
        rdfs:label {_literal(PUBLISHER)}@en ;
        skos:prefLabel {_literal(PUBLISHER)}@en .
}}

<graph/synthetic-report-2024> {{
    <id/document/synthetic-report-2024> a fabio:PressRelease ;
        rdfs:label {_literal(HOSTILE)}@en ;
        dct:title {_literal(HOSTILE)}@en ;
        dct:publisher <id/organisation/synthetic-publisher> ;
        dct:issued "{SECOND_DATE}"^^xsd:date ;
        dct:language "en" ;
        schema:about <id/event/khojaly-massacre> ;
        schema:text {_literal(TEXT)}@en .

    <id/count/synthetic-report-2024-killed> a kg:Count ;
        rdfs:label "485 people killed, according to the synthetic report"@en ;
        kg:statedIn <id/document/synthetic-report-2024> ;
        kg:about <id/event/khojaly-killings> ;
        kg:countOf <id/group/people-killed-in-khojaly> ;
        schema:value {SECOND_FIGURE} ;
        schema:unitText "people" ;
        schema:text "{SECOND_QUOTE}"@en .

    <id/statement/synthetic-report-2024-tragedy> a kg:Characterisation ;
        rdfs:label "The synthetic report calls the events a tragedy"@en ;
        kg:statedIn <id/document/synthetic-report-2024> ;
        kg:about <id/event/khojaly-massacre> ;
        kg:characterisedAs "{SECOND_TERM}"@en ;
        schema:text "It calls the events a tragedy."@en .
}}

<graph/provenance> {{
    <graph/synthetic-report-2024> a kg:SourceGraph ;
        rdfs:label "Statements of the synthetic report (test data)"@en ;
        prov:wasDerivedFrom <id/document/synthetic-report-2024> ;
        prov:wasAttributedTo <id/organisation/synthetic-publisher> ;
        dct:created "2026-11-30"^^xsd:date .

    <id/document/synthetic-report-2024>
        dct:publisher <id/organisation/synthetic-publisher> ;
        dct:issued "{SECOND_DATE}"^^xsd:date .
}}
"""


def two_sources_data(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "data").glob("*.trig")):
        (directory / path.name).write_bytes(path.read_bytes())
    (directory / "synthetic-report-2024.trig").write_text(SECOND_SOURCE, encoding="utf-8")
    return directory
