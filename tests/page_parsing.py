"""Read what the HTML pages show: inline SVG pictures (as XML), their table equivalents, the
JSON-LD blocks, the footnotes and the sources table. Real parsers: xml.etree and html.parser."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from html.parser import HTMLParser

SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Figure:
    key: str
    svg: ET.Element
    table_rows: list[list[tuple[str, str | None]]]  # (text, href) per cell
    more: str | None

    def marks(self, cls: str | None = None) -> list[ET.Element]:
        return [
            a
            for a in self.svg.iter(SVG + "a")
            if cls is None or cls in (a.get("class") or "").split()
        ]

    def table_hrefs(self) -> set[str]:
        return {href for row in self.table_rows for _text, href in row if href}


def svg_text(element: ET.Element) -> str:
    return "".join(element.itertext())


def figures(html: str) -> dict[str, Figure]:
    """Every <figure class="picture-figure">: its SVG parsed as XML and its details table."""
    found = {}
    for match in re.finditer(
        r'<figure class="picture-figure" id="([^"]+)">(.*?)</figure>', html, re.S
    ):
        key, body = match.group(1), match.group(2)
        (svg_source,) = re.findall(r"<svg .*?</svg>", body, re.S)
        svg = ET.fromstring(svg_source)  # well-formed XML, or this raises
        table = TableReader()
        table.feed(body[body.index("<details") :])
        more = re.search(r'<p class="muted more">(.*?)</p>', body, re.S)
        found[key] = Figure(key, svg, table.rows, more.group(1) if more else None)
    return found


class TableReader(HTMLParser):
    """The body rows of the tables fed, as (text, href) cells; optionally only one table."""

    def __init__(self, table_class: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.table_class = table_class
        self.rows: list[list[tuple[str, str | None]]] = []
        self.cell_langs: list[list[str | None]] = []
        self._depth = 0  # inside the wanted table
        self._in_body = False
        self._row: list[tuple[str, str | None]] | None = None
        self._cell: list[str] | None = None
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "table":
            classes = (values.get("class") or "").split()
            if self._depth or self.table_class is None or self.table_class in classes:
                self._depth += 1
        if not self._depth:
            return
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell, self._href = [], None
        elif tag == "a" and self._cell is not None and self._href is None:
            self._href = values.get("href")

    def handle_endtag(self, tag: str) -> None:
        if not self._depth:
            return
        if tag == "table":
            self._depth -= 1
        elif tag == "tbody":
            self._in_body = False
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append((" ".join("".join(self._cell).split()), self._href))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


class Footnotes(HTMLParser):
    """The numbered sources (<li id="source-N">) and every footnote reference (#source-N)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.notes: dict[str, str] = {}
        self.references: list[str] = []
        self._note: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "li" and (values.get("id") or "").startswith("source-"):
            self._note = values["id"]
            self._text = []
        if tag == "a" and (values.get("href") or "").startswith("#source-"):
            self.references.append((values.get("href") or "")[1:])

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._note:
            assert self._note not in self.notes, f"{self._note} twice"
            self.notes[self._note] = " ".join("".join(self._text).split())
            self._note = None

    def handle_data(self, data: str) -> None:
        if self._note:
            self._text.append(data)


def footnotes(html: str) -> Footnotes:
    reader = Footnotes()
    reader.feed(html)
    return reader


def json_ld_blocks(html: str) -> list[tuple[str, object]]:
    """(class attribute, parsed JSON) of every <script type="application/ld+json">."""
    blocks = []
    for match in re.finditer(
        r'<script type="application/ld\+json"(?: class="([^"]*)")?>(.*?)</script>', html, re.S
    ):
        blocks.append((match.group(1) or "", json.loads(match.group(2))))
    return blocks
