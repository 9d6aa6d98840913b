"""`publisher new-source`: the skeleton of a new source file, for a curator to fill in.

The skeleton holds what the command knows for sure: the document with its verbatim text, its
title, publisher, date and language, and the provenance of its named graph. That much passes
the shapes as written (a document that states nothing yet is a valid document), so a curator
can validate at once and then add statements one at a time. The statements section holds
commented examples of a count with an exact figure, a lower bound, a characterisation and an
attribution; uncommented and completed (every FILL-IN replaced), each passes the shapes. Where
the text has a sentence with a figure ("613 people ...", "over 5,000 ..."), the example quotes
it already, so the quote is verbatim by construction.

A publisher already described in the data directory (an org:Organization with that slug, e.g.
`embassy-of-azerbaijan-brussels`) is referred to; a new one is described in the file's own
`<graph/curated>` block (labels only; move it to curated.trig when other sources share it).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from publisher.dataset.load import AUTHORING_FORMATS, rdf_files
from publisher.errors import PublisherError

ORG_ORGANIZATION = "http://www.w3.org/ns/org#Organization"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
LOWER_BOUND = re.compile(
    r"\b(over|more than|at least|upwards of|in excess of|above) ([0-9][0-9,]*)", re.IGNORECASE
)
# A figure: digits (with thousands commas), not part of an ordinal ("31st") or a range
# ("25-26"), not a day next to a month name, not a year: those are not counts.
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
FIGURE = re.compile(r"(?<![0-9,\-])([0-9](?:[0-9]|,[0-9])*)(?![0-9]|,[0-9]|-|[A-Za-z])")
YEAR = re.compile(r"^(1[89]|20)[0-9]{2}$")
END_OF_STATEMENTS = "# (end of statements)"


class SkeletonError(PublisherError):
    """The skeleton cannot be written: bad input, or it would replace or collide with data."""


@dataclass(frozen=True)
class NewSource:
    text: str
    title: str
    publisher: str
    issued: dt.date
    slug: str
    language: str = "en"
    created: dt.date | None = None


# Letters NFKD does not reduce to ASCII: Azerbaijani and Russian, the data's own languages.
TRANSLITERATION = str.maketrans(
    {
        "ə": "e", "Ə": "E", "ı": "i", "İ": "I",
        **dict(zip("абвгдезийклмнопрстуфыэАБВГДЕЗИЙКЛМНОПРСТУФЫЭ",
                   "abvgdezijklmnoprstufyeABVGDEZIJKLMNOPRSTUFYE", strict=True)),
        "ё": "yo", "ж": "zh", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch",
        "ю": "yu", "я": "ya", "Ё": "Yo", "Ж": "Zh", "Х": "Kh", "Ц": "Ts", "Ч": "Ch",
        "Ш": "Sh", "Щ": "Shch", "Ю": "Yu", "Я": "Ya", "ъ": "", "ь": "", "Ъ": "", "Ь": "",
    }
)  # fmt: skip


def ascii_slug(text: str) -> str:
    """Lowercase ASCII with hyphens, transliterating rather than dropping letters
    ("Xocalı faciəsi" -> "xocali-faciesi", "Ходжалы" -> "khodzhaly")."""
    folded = unicodedata.normalize("NFKD", text.translate(TRANSLITERATION))
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def default_slug(title: str, issued: dt.date) -> str:
    """The first six words of the title and the date: "press-release-on-x-2023-02-26"."""
    words = [w for w in ascii_slug(title).split("-") if w][:6]
    return "-".join([*words, issued.isoformat()])


def read_text(path: Path) -> str:
    """The document's text exactly as in the file (UTF-8), line ends as LF, outer blank lines
    removed: every quote of a statement must be a substring of it."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise SkeletonError(f"cannot read {path}: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise SkeletonError(
            f"{path} is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from error
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not text.strip():
        raise SkeletonError(f"{path} is empty: the skeleton needs the document's text")
    return text


def _short(text: str) -> str:
    """A one-line Turtle string (quotes, backslashes and line breaks escaped)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'


def _long(text: str) -> str:
    """A Turtle long string that keeps the text's line breaks readable."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"""{escaped}"""'


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


def _example_quotes(text: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """(quote, figure) for the exact-count example and for the lower-bound example, taken from
    the text when it has such sentences; placeholders otherwise."""
    exact = ("FILL-IN: the source's exact words, containing the figure", "FILL-IN")
    lower = ("FILL-IN: the source's exact words, e.g. over 5,000 ...", "FILL-IN")
    for sentence in _sentences(text):
        bound = LOWER_BOUND.search(sentence)
        if bound and lower[1] == "FILL-IN":
            lower = (sentence, bound.group(2).replace(",", ""))
        elif not bound and exact[1] == "FILL-IN":
            figures = [
                f.group(1)
                for f in FIGURE.finditer(sentence)
                if not YEAR.match(f.group(1)) and not _next_to_month(sentence, f)
            ]
            if figures:
                exact = (sentence, figures[0].replace(",", ""))
    return exact, lower


def _next_to_month(sentence: str, figure: re.Match[str]) -> bool:
    before = sentence[: figure.start()].split()[-1:]
    after = sentence[figure.end() :].split()[:1]
    return any(word.strip(",.") in MONTHS.split("|") for word in before + after)


def described_organisation(data_dir: Path, slug: str, *, base: str) -> bool:
    """Is <id/organisation/slug> an org:Organization in some file of the data directory?"""
    subject = ox.NamedNode(f"{base}id/organisation/{slug}")
    needle = f"id/organisation/{slug}>".encode()
    for path in rdf_files(data_dir):
        if needle not in path.read_bytes():
            continue  # cheap pre-filter: most files never mention it
        rdf_format = AUTHORING_FORMATS[path.suffix.lower()]
        try:
            with path.open("rb") as stream:
                for quad in ox.parse(stream, format=rdf_format, base_iri=base):
                    if (
                        quad.subject == subject
                        and quad.predicate.value == RDF_TYPE
                        and quad.object.value == ORG_ORGANIZATION
                    ):
                        return True
        except (SyntaxError, ValueError) as error:
            raise SkeletonError(
                f"{path}: cannot parse it to look for the publisher: {error}"
            ) from error
    return False


def render(source: NewSource, *, new_publisher: str | None) -> str:
    """The skeleton's TriG text."""
    slug, lang = source.slug, source.language
    doc, graph = f"<id/document/{slug}>", f"<graph/{slug}>"
    publisher_slug = ascii_slug(source.publisher)
    publisher = f"<id/organisation/{publisher_slug}>"
    created = (source.created or dt.date.today()).isoformat()
    title = _short(source.title)
    (exact_quote, exact_figure), (lower_quote, lower_figure) = _example_quotes(source.text)
    curated = ""
    if new_publisher is not None:
        name = _short(new_publisher)
        curated = f"""
# The publisher is new to data/: described here; move it to curated.trig (with labels in more
# languages) when other sources share it.
<graph/curated> {{
    {publisher} a org:Organization ;
        rdfs:label {name}@en ;
        skos:prefLabel {name}@en .
}}
"""
    return f"""\
# Statements taken from ONE source document: {source.title}
# ({source.publisher}, {source.issued.isoformat()}). Written by `publisher new-source`; fill in the
# statements section, then run `publisher validate`.
#
# Graph {graph}: everything this document says, and nothing else. Its figures, names,
# characterisations and attributions are what THIS SOURCE states, not neutral fact.
# Graph <graph/provenance> (below): the description of the source graph.
#
# IRIs are relative to the build base; no @base on purpose.

@prefix kg: <def/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix schema: <https://schema.org/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix fabio: <http://purl.org/spar/fabio/> .

{graph} {{

    # ----- The document -------------------------------------------------------------------
    # Optional: schema:locationCreated <id/place/...> (the place of issue, a described place);
    # schema:about <id/event/...> (what it is about).
    {doc} a fabio:PressRelease ;
        rdfs:label {_document_labels(source)} ;
        dct:title {title}@{lang} ;
        dct:publisher {publisher} ;
        dct:issued "{source.issued.isoformat()}"^^xsd:date ;
        dct:language "{lang}" ;
        # The text exactly as published: every quote below (schema:text) must be a verbatim
        # part of it, which the shapes check.
        schema:text {_long(source.text)}@{lang} .

    # ----- Statements ---------------------------------------------------------------------
    # Each statement: its own IRI, an English label saying "according to ...", kg:statedIn the
    # document, kg:about what it is about (an IRI described in data/), and schema:text with the
    # source's exact words. Uncomment an example, replace every FILL-IN, run `publisher validate`.
    # Things this source refers to may already be described (curated.trig or another source's
    # file): use their IRIs, so that different sources' claims about them meet.

    # A count with an exact figure: schema:value is the number as the source writes it.
    # <id/count/{slug}-FILL-IN> a kg:Count ;
    #     rdfs:label "FILL-IN: e.g. 613 people killed, according to {_plain(source.title)}"@en ;
    #     kg:statedIn {doc} ;
    #     kg:about <id/event/FILL-IN> ;
    #     kg:countOf <id/group/FILL-IN> ;
    #     schema:value {exact_figure} ;
    #     schema:unitText "people" ;
    #     schema:text {_short(exact_quote)}@{lang} .

    # A lower bound ("over 5,000", "more than 5,000"): kg:minExclusive, never schema:value.
    # <id/count/{slug}-FILL-IN> a kg:Count ;
    #     rdfs:label "FILL-IN: e.g. over 5,000 inhabitants expelled, according to ..."@en ;
    #     kg:statedIn {doc} ;
    #     kg:about <id/event/FILL-IN> ;
    #     kg:countOf <id/group/FILL-IN> ;
    #     kg:minExclusive {lower_figure} ;
    #     schema:unitText "inhabitants" ;
    #     schema:text {_short(lower_quote)}@{lang} .

    # A characterisation: kg:characterisedAs holds the source's own words, found in the quote.
    # (kg:LegalCharacterisation for legal terms such as "genocide" or "war crimes".)
    # <id/statement/{slug}-FILL-IN> a kg:Characterisation ;
    #     rdfs:label "FILL-IN: e.g. The source calls the attack premeditated"@en ;
    #     kg:statedIn {doc} ;
    #     kg:about <id/event/FILL-IN> ;
    #     kg:characterisedAs "FILL-IN: the words, e.g. premeditated"@{lang} ;
    #     schema:text "FILL-IN: the source's exact words containing them"@{lang} .

    # An attribution of responsibility: kg:responsibleAgent names a described agent.
    # <id/statement/{slug}-FILL-IN> a kg:Attribution ;
    #     rdfs:label "FILL-IN: e.g. The source says X carried out the attack"@en ;
    #     kg:statedIn {doc} ;
    #     kg:about <id/event/FILL-IN> ;
    #     kg:responsibleAgent <id/organisation/FILL-IN> ;
    #     schema:text "FILL-IN: the source's exact words"@{lang} .

    {END_OF_STATEMENTS}
}}

# ---------------------------------------------------------------------------------------------
# Provenance of the source graph; the document's publisher and date are repeated here so that
# <graph/provenance> alone says who published each source document and when.
# ---------------------------------------------------------------------------------------------
<graph/provenance> {{
    {graph} a kg:SourceGraph ;
        rdfs:label {_short("Statements of " + source.title)}@en ;
        dct:description {_short(_description(source))}@en ;
        prov:wasDerivedFrom {doc} ;
        prov:wasAttributedTo {publisher} ;
        dct:created "{created}"^^xsd:date ;
        dct:modified "{created}"^^xsd:date .

    {doc}
        dct:publisher {publisher} ;
        dct:issued "{source.issued.isoformat()}"^^xsd:date .
}}
{curated}"""


def _document_labels(source: NewSource) -> str:
    """The English label the shapes ask for: the title itself for an English document; for
    another language the title in it, and an English label to improve on."""
    title = _short(source.title)
    if source.language == "en":
        return f"{title}@en"
    english = _short(f"{source.title} (document in {source.language}; title to translate)")
    return f"{title}@{source.language} , {english}@en"


def _plain(text: str) -> str:
    """Text for inside a commented string example: no quotes or line breaks to trip over."""
    return " ".join(re.sub(r"[\"\\]+", " ", text).split())


def _description(source: NewSource) -> str:
    return (
        f"Everything taken from '{source.title}' ({source.publisher}, "
        f"{source.issued.isoformat()}), attributed to it: figures, names, characterisations "
        "and attributions of responsibility are the source's, not neutral fact."
    )


def write_skeleton(
    text_file: Path,
    *,
    title: str,
    publisher: str,
    issued: dt.date,
    data_dir: Path,
    base: str,
    out: Path | None = None,
    slug: str | None = None,
    language: str = "en",
    created: dt.date | None = None,
) -> Path:
    """Write the skeleton (never over an existing file) and return its path."""
    title = " ".join(title.split())
    publisher = " ".join(publisher.split())
    if not title:
        raise SkeletonError("--title is empty: give the document's title exactly as published")
    if not ascii_slug(publisher):
        raise SkeletonError(
            "--publisher needs letters or digits: the publisher's name or its slug "
            "(e.g. embassy-of-azerbaijan-brussels)"
        )
    if not LANGUAGE_CODE.match(language):
        raise SkeletonError(f"--language {language!r} is not a BCP 47 code such as en, az, ru")
    slug = slug or default_slug(title, issued)
    if not SLUG.match(slug):
        raise SkeletonError(f"--slug {slug!r}: use lowercase ASCII letters, digits and hyphens")
    text = read_text(text_file)
    path = out or data_dir / "sources" / f"{slug}.trig"
    if path.exists():
        raise SkeletonError(f"{path} exists: refusing to overwrite it (choose --out or --slug)")
    clash = _slug_in_use(data_dir, slug)
    if clash is not None:
        raise SkeletonError(
            f"<graph/{slug}> or <id/document/{slug}> is already used in {clash}: "
            "choose another --slug"
        )
    publisher_slug = ascii_slug(publisher)
    known = data_dir.is_dir() and described_organisation(data_dir, publisher_slug, base=base)
    source = NewSource(
        text=text,
        title=title,
        publisher=publisher,
        issued=issued,
        slug=slug,
        language=language,
        created=created,
    )
    rendered = render(source, new_publisher=None if known else publisher)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as stream:  # "x": never replace a file
            stream.write(rendered)
    except FileExistsError as error:
        raise SkeletonError(f"{path} exists: refusing to overwrite it") from error
    return path


def _slug_in_use(data_dir: Path, slug: str) -> Path | None:
    needles = (f"<graph/{slug}>".encode(), f"<id/document/{slug}>".encode())
    for path in rdf_files(data_dir):
        data = path.read_bytes()
        if any(needle in data for needle in needles):
            return path
    return None
