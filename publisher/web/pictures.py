"""Pictures for people, drawn on the server as inline SVG: no script, readable without one.

Each `Picture` is an accessible SVG (``aria-labelledby`` a ``<title>`` and a ``<desc>``) plus
the same facts as a table (``columns``, ``rows``) that the template shows in a ``<details>``
under it. Every mark is a link to its resource page. This module only draws: it takes plain
data (labels, hrefs, dates) and never touches the store.

The SVG's role is ``document``, not ``img``: ARIA gives ``img`` presentational children, so
the links inside an ``img`` would be hidden from assistive technology while still taking the
focus (axe-core 4.14 reports it as a serious "nested-interactive" violation). ``document``
keeps the links reachable and is one of the roles the Nu HTML Checker allows on ``<svg>``
(``graphics-document``, ``figure`` and ``group`` are not); both checkers pass the pages.

All text is escaped for XML here (labels contain quotes, ``<``, ``&`` and characters XML 1.0
cannot carry), so the SVG is well-formed XML inside the HTML page. Layouts are deterministic:
the same data gives the same bytes (the pages are cached and ETagged by build).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text safe in XML content and attribute values (double-quoted): escaped, and the
    characters XML 1.0 cannot carry at all replaced by U+FFFD."""
    text = _NOT_XML_CHAR.sub("\ufffd", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters (the full text is in the link's title)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Cell:
    """A table cell: text, and where it links (None: plain text)."""

    text: str
    href: str | None = None
    lang: str | None = None


@dataclass
class Picture:
    key: str  # unique on the page: prefixes the SVG's ids
    title: str
    description: str
    svg: Markup
    columns: list[str]
    rows: list[list[Cell]]
    more: int = 0  # things left out of the picture (and of its table)
    more_href: str | None = None  # where all of them are listed
    more_text: str = ""

    @property
    def title_id(self) -> str:
        return f"{self.key}-title"


# -- drawing helpers ----------------------------------------------------------------------------
class _Svg:
    def __init__(self, key: str, width: int, height: int, title: str, description: str) -> None:
        self.key = key
        self.parts: list[str] = [
            f'<svg xmlns="{SVG_NS}" class="picture picture-{key}" role="document" '
            f'aria-labelledby="{key}-svg-title {key}-svg-desc" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
            f'preserveAspectRatio="xMinYMin meet">',
            f'<title id="{key}-svg-title">{xml_text(title)}</title>',
            f'<desc id="{key}-svg-desc">{xml_text(description)}</desc>',
        ]

    def add(self, markup: str) -> None:
        self.parts.append(markup)

    def text(
        self, x: float, y: float, text: str, *, cls: str, anchor: str = "start", lang: str | None
    ) -> str:
        language = f' xml:lang="{xml_text(lang)}"' if lang else ""
        return (
            f'<text x="{x:.1f}" y="{y:.1f}" class="{cls}" text-anchor="{anchor}"{language}>'
            f"{xml_text(text)}</text>"
        )

    def link(self, href: str, tooltip: str, body: str, *, cls: str) -> str:
        return (
            f'<a class="{cls}" href="{xml_text(href)}"><title>{xml_text(tooltip)}</title>{body}</a>'
        )

    def done(self) -> Markup:
        # Every part was escaped when it was added.
        return Markup("".join([*self.parts, "</svg>"]))


# -- the timeline -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dated:
    """A thing with a date (or an interval) and what the date is (start, issued...)."""

    href: str
    label: str
    lang: str | None
    start: date
    end: date | None
    what: str  # "start date – end date", "issued": the date properties, in words
    kind: str = ""  # its class, in words


TIMELINE_WIDTH = 760
ROW = 24
AXIS = 34
MARGIN = 12


def timeline(
    key: str,
    items: Sequence[Dated],
    *,
    title: str,
    more: int = 0,
    more_href: str | None = None,
) -> Picture:
    """One row per dated thing, in date order; x is the date on a linear axis, so the
    distance between 1992 and 2023 shows. Intervals are bars, single days dots."""
    items = sorted(items, key=lambda d: (d.start, d.end or d.start, d.label, d.href))
    first = min(d.start for d in items)
    last = max((d.end or d.start) for d in items)
    span = max((last - first).days, 1)
    left, right = MARGIN + 4, TIMELINE_WIDTH - MARGIN - 4
    height = AXIS + ROW * len(items) + MARGIN

    def x_of(day: date) -> float:
        return left + (right - left) * (day - first).days / span

    years = _year_ticks(first, last)
    description = (
        f"{len(items)} dated resources from {first.isoformat()} to {last.isoformat()}, "
        "one per row in date order; each mark links to the resource's page."
    )
    svg = _Svg(key, TIMELINE_WIDTH, height, title, description)
    svg.add(f'<line class="axis" x1="{left}" y1="{AXIS - 8}" x2="{right}" y2="{AXIS - 8}"/>')
    for year in years:
        x = x_of(date(year, 1, 1)) if date(year, 1, 1) >= first else left
        svg.add(f'<line class="tick" x1="{x:.1f}" y1="{AXIS - 12}" x2="{x:.1f}" y2="{height}"/>')
        svg.add(svg.text(x, AXIS - 16, str(year), cls="tick-label", anchor="middle", lang=None))
    rows: list[list[Cell]] = []
    for index, item in enumerate(items):
        y = AXIS + ROW * index + ROW / 2
        x1 = x_of(item.start)
        x2 = x_of(item.end) if item.end and item.end > item.start else x1
        if x2 - x1 >= 3:
            mark = (
                f'<rect class="interval" x="{x1:.1f}" y="{y - 5:.1f}" '
                f'width="{x2 - x1:.1f}" height="10" rx="3"/>'
            )
        else:
            mark = f'<circle class="dot" cx="{x1:.1f}" cy="{y:.1f}" r="5"/>'
        when = _when(item)
        # The label goes on the side with more room.
        if x2 < (left + right) / 2:
            label = svg.text(x2 + 9, y + 4, shorten(item.label, 70), cls="label", lang=item.lang)
        else:
            label = svg.text(
                x1 - 9, y + 4, shorten(item.label, 70), cls="label", anchor="end", lang=item.lang
            )
        tooltip = f"{item.label} ({when})"
        svg.add(svg.link(item.href, tooltip, mark + label, cls="timeline-mark"))
        rows.append(
            [
                Cell(when),
                Cell(item.label, item.href, item.lang),
                Cell(item.what),
                Cell(item.kind),
            ]
        )
    return Picture(
        key=key,
        title=title,
        description=description,
        svg=svg.done(),
        columns=["Date", "Resource", "Date given as", "Type"],
        rows=rows,
        more=more,
        more_href=more_href,
        more_text=f"and {more} more dated resources" if more else "",
    )


def _when(item: Dated) -> str:
    if item.end and item.end != item.start:
        return f"{item.start.isoformat()} – {item.end.isoformat()}"
    return item.start.isoformat()


def _year_ticks(first: date, last: date) -> list[int]:
    """About six year ticks at a round step, starting with the first year."""
    years = last.year - first.year
    step = next((s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500) if years / s <= 6), 1000)
    ticks = [first.year, *(y for y in range(first.year + 1, last.year + 1) if y % step == 0)]
    if ticks[-1] != last.year and last.year - ticks[-1] >= step / 2:
        ticks.append(last.year)
    return ticks


# -- the neighbourhood --------------------------------------------------------------------------
@dataclass(frozen=True)
class Neighbour:
    href: str | None
    label: str
    lang: str | None
    iri: str
    edges: tuple[tuple[str, str], ...]  # (direction "out"|"in", property label)
    hop: int = 1
    via: str | None = None  # for a second hop: the IRI of the first-hop node it hangs on


NEIGHBOURHOOD_WIDTH = 960  # room on both sides for the labels of the nodes
NEIGHBOURHOOD_HEIGHT = 600
NODE_LABEL = 30
EDGE_LABEL = 28


def neighbourhood(
    key: str,
    centre: Cell,
    neighbours: Sequence[Neighbour],
    *,
    title: str,
    more: int = 0,
    more_href: str | None = None,
) -> Picture:
    """The resource in the centre, the things it links to and that link to it on a circle
    (second hops on an outer circle, near the node they hang on), each edge labelled with
    its property. Arrows point from subject to object."""
    width, height = NEIGHBOURHOOD_WIDTH, NEIGHBOURHOOD_HEIGHT
    cx, cy = width / 2, height / 2
    first = [n for n in neighbours if n.hop == 1]
    second = [n for n in neighbours if n.hop == 2]
    # Radii (x, y) of the inner and outer ellipses: wide, so that labels stay inside.
    inner = (150.0, 130.0) if second else (230.0, 240.0)
    outer = (300.0, 260.0)
    description = (
        f"{centre.text} and {len(first)} resources it links to or that link to it"
        + (f", and {len(second)} resources linked to those" if second else "")
        + "; edges are labelled with their property, arrows point from subject to object."
    )
    svg = _Svg(key, width, height, title, description)
    svg.add(
        f'<defs><marker id="{key}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path class="arrow" d="M0,0 L10,5 L0,10 z"/></marker></defs>'
    )
    positions: dict[str, tuple[float, float, float]] = {}  # iri -> x, y, angle
    for index, node in enumerate(first):
        angle = -math.pi / 2 + 2 * math.pi * index / max(len(first), 1)
        positions[node.iri] = (
            cx + inner[0] * math.cos(angle),
            cy + inner[1] * math.sin(angle),
            angle,
        )
    children: dict[str, list[Neighbour]] = {}
    for node in second:
        children.setdefault(node.via or "", []).append(node)
    spread = 2 * math.pi / max(len(first), 1)
    for parent, nodes in children.items():
        _px, _py, base_angle = positions.get(parent, (cx, cy, 0.0))
        for index, node in enumerate(nodes):
            offset = (index - (len(nodes) - 1) / 2) * min(spread / max(len(nodes), 1), 0.35)
            angle = base_angle + offset
            positions[node.iri] = (
                cx + outer[0] * math.cos(angle),
                cy + outer[1] * math.sin(angle),
                angle,
            )
    edges: list[str] = []
    marks: list[str] = []
    rows: list[list[Cell]] = []
    for node in [*first, *second]:
        x, y, angle = positions[node.iri]
        sx, sy = (cx, cy) if node.hop == 1 else positions.get(node.via or "", (cx, cy, 0))[:2]
        for number, (direction, prop) in enumerate(node.edges):
            # Several properties between the same two nodes: labels stacked along the edge.
            (ax, ay), (bx, by) = ((sx, sy), (x, y)) if direction == "out" else ((x, y), (sx, sy))
            ax, ay, bx, by = _trim(ax, ay, bx, by, 14)
            if number == 0:
                # Links both ways (sub-event / part of event): arrows at both ends.
                both = len({d for d, _p in node.edges}) == 2
                start = f' marker-start="url(#{key}-arrow)"' if both else ""
                edges.append(
                    f'<line class="edge" x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" '
                    f'y2="{by:.1f}" marker-end="url(#{key}-arrow)"{start}/>'
                )
            mx = sx + (x - sx) * 0.6
            my = sy + (y - sy) * 0.6 + 11 * number
            edges.append(
                svg.text(
                    mx,
                    my - 3,
                    shorten(prop, EDGE_LABEL),
                    cls="edge-label",
                    anchor="middle",
                    lang=None,
                )
            )
            source = centre if node.hop == 1 else Cell(_label_of(node.via, neighbours))
            target = Cell(node.label, node.href, node.lang)
            subject, obj = (source, target) if direction == "out" else (target, source)
            rows.append([subject, Cell(prop), obj])
        anchor = (
            "start" if math.cos(angle) > 0.25 else "end" if math.cos(angle) < -0.25 else "middle"
        )
        dx = 10 if anchor == "start" else -10 if anchor == "end" else 0
        dy = 4 if anchor != "middle" else (20 if math.sin(angle) > 0 else -12)
        dot = f'<circle class="node hop-{node.hop}" cx="{x:.1f}" cy="{y:.1f}" r="8"/>'
        text = svg.text(
            x + dx,
            y + dy,
            shorten(node.label, NODE_LABEL),
            cls="node-label",
            anchor=anchor,
            lang=node.lang,
        )
        if node.href:
            marks.append(svg.link(node.href, node.label, dot + text, cls="neighbour"))
        else:
            marks.append(f'<g class="neighbour unlinked">{dot}{text}</g>')
    for part in edges:
        svg.add(part)
    svg.add(f'<circle class="node centre" cx="{cx:.1f}" cy="{cy:.1f}" r="14"/>')
    svg.add(
        svg.text(
            cx,
            cy + 32,
            shorten(centre.text, 40),
            cls="centre-label",
            anchor="middle",
            lang=centre.lang,
        )
    )
    for part in marks:
        svg.add(part)
    return Picture(
        key=key,
        title=title,
        description=description,
        svg=svg.done(),
        columns=["Subject", "Property", "Object"],
        rows=rows,
        more=more,
        more_href=more_href,
        more_text=f"and {more} more linked resources" if more else "",
    )


def _label_of(iri: str | None, neighbours: Sequence[Neighbour]) -> str:
    return next((n.label for n in neighbours if n.iri == iri), iri or "")


def _trim(ax: float, ay: float, bx: float, by: float, gap: float) -> tuple[float, ...]:
    """The segment a->b shortened by `gap` at both ends (so arrows stop at the circles)."""
    length = math.hypot(bx - ax, by - ay) or 1.0
    ux, uy = (bx - ax) / length, (by - ay) / length
    return ax + ux * gap, ay + uy * gap, bx - ux * gap, by - uy * gap


# -- bars (classes and sources at a glance) ------------------------------------------------------
@dataclass(frozen=True)
class Bar:
    href: str | None
    label: str
    lang: str | None
    value: int
    note: str = ""  # shown after the value (a date)


BAR_WIDTH = 760
BAR_ROW = 26
LABEL_WIDTH = 300


def bars(
    key: str,
    items: Sequence[Bar],
    *,
    title: str,
    unit: str,
    columns: Sequence[str],
    more: int = 0,
    more_href: str | None = None,
    more_text: str = "",
) -> Picture:
    """Horizontal bars, longest first as given; the label on the left is the link."""
    most = max((b.value for b in items), default=1) or 1
    height = BAR_ROW * len(items) + MARGIN
    description = f"{len(items)} bars, one per row: " + "; ".join(
        f"{b.label}: {b.value} {unit}" for b in items[:12]
    )
    if len(items) > 12:
        description += "; …"
    svg = _Svg(key, BAR_WIDTH, height, title, description)
    span = BAR_WIDTH - LABEL_WIDTH - 120
    rows: list[list[Cell]] = []
    for index, item in enumerate(items):
        y = BAR_ROW * index + 4
        width = max(span * item.value / most, 2)
        label = svg.text(
            LABEL_WIDTH - 8,
            y + 14,
            shorten(item.label, 40),
            cls="label",
            anchor="end",
            lang=item.lang,
        )
        bar = (
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" '
            f'height="{BAR_ROW - 8}"/>'
        )
        value = svg.text(
            LABEL_WIDTH + width + 6,
            y + 14,
            f"{item.value}{'  ' + item.note if item.note else ''}",
            cls="value",
            lang=None,
        )
        tooltip = f"{item.label}: {item.value} {unit}" + (f", {item.note}" if item.note else "")
        if item.href:
            svg.add(svg.link(item.href, tooltip, label + bar + value, cls="bar-mark"))
        else:
            svg.add(f'<g class="bar-mark">{label}{bar}{value}</g>')
        row = [Cell(item.label, item.href, item.lang), Cell(str(item.value))]
        if len(columns) > 2:
            row.append(Cell(item.note))
        rows.append(row)
    return Picture(
        key=key,
        title=title,
        description=description,
        svg=svg.done(),
        columns=list(columns),
        rows=rows,
        more=more,
        more_href=more_href,
        more_text=more_text,
    )
