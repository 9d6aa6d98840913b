"""Choose a format: explicit extension > ?format= / ?output= > Accept (RFC 9110 rules).

The Accept parser handles q-values, wildcards, media-type parameters and q=0 exclusions.
For each offered format the most specific matching media range decides its quality; the
highest quality wins, ties go to the server's order (the format table's order), so that a
bare ``*/*`` (curl, most scripts) or no Accept at all gets the first offered format.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from publisher.formats import Format


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float

    @property
    def specificity(self) -> int:
        """3 = type/subtype;params, 2 = type/subtype, 1 = type/*, 0 = */*."""
        if self.type == "*":
            return 0
        if self.subtype == "*":
            return 1
        return 3 if self.params else 2

    def matches(self, media_type: str) -> bool:
        main, _, sub = media_type.partition("/")
        return self.type in ("*", main) and self.subtype in ("*", sub)


def _parse_q(raw: str) -> float | None:
    """The q of a member; None when it is no number (the member is then malformed).

    ``nan`` and ``inf`` parse as floats but are not qvalues (RFC 9110 allows 0 to 1 with at
    most three decimals): they are malformed too, never a quality, so that
    ``text/html;q=nan`` cannot compare false with everything and end in 406.
    """
    try:
        q = float(raw)
    except ValueError:
        return None
    if not math.isfinite(q):
        return None
    return min(max(q, 0.0), 1.0)


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an Accept header; malformed members are skipped, never fatal."""
    ranges: list[MediaRange] = []
    if not header:
        return ranges
    for member in _split_outside_quotes(header, ","):
        parts = _split_outside_quotes(member, ";")
        if not parts:  # a member of only separators (";;"): skip it rather than fail
            continue
        media = parts[0].strip().lower()
        if media == "*":  # seen from old Java clients: means */*
            media = "*/*"
        main, slash, sub = media.partition("/")
        if not slash or not main or not sub or (main == "*" and sub != "*"):
            continue
        q: float | None = 1.0
        params: list[tuple[str, str]] = []
        for param in parts[1:]:
            name, _, value = param.strip().partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if not name:
                continue
            if name == "q":
                q = _parse_q(value)
                break  # parameters after q are accept-extensions, not media-type parameters
            params.append((name, value))
        if q is None:  # a member with an unreadable q is malformed: skipped like the others
            continue
        ranges.append(MediaRange(main.strip(), sub.strip(), tuple(params), q))
    return ranges


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    pieces, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
    pieces.append("".join(current))
    return [p for p in pieces if p.strip()]


def _params_ok(media_range: MediaRange) -> bool:
    # The only media-type parameters we honour: charset (we only speak UTF-8) and the JSON-LD
    # profile (any profile is answered with compacted JSON-LD).
    for name, value in media_range.params:
        if name == "charset" and value.lower() not in ("utf-8", "utf8"):
            return False
    return True


def quality(fmt: Format, ranges: Sequence[MediaRange]) -> float:
    """The q the client gives this format: the most specific range matching any of its types."""
    return _match(fmt, ranges)[1]


def _match(fmt: Format, ranges: Sequence[MediaRange]) -> tuple[int, float]:
    """(specificity, q) of the most specific range matching any of the format's types."""
    best: tuple[int, float] | None = None
    for media_type in fmt.media_types:
        for media_range in ranges:
            if media_range.matches(media_type) and _params_ok(media_range):
                candidate = (media_range.specificity, media_range.q)
                # A more specific range overrides a less specific one (text/html;q=0 beats */*).
                if (
                    best is None
                    or candidate[0] > best[0]
                    or (candidate[0] == best[0] and candidate[1] > best[1])
                ):
                    best = candidate
        if best is not None and media_type == fmt.media_type and best[0] >= 2:
            break  # the canonical type matched exactly: aliases cannot override it
    return best if best else (0, 0.0)


def choose(accept: str | None, offered: Sequence[Format]) -> Format | None:
    """The best offered format for an Accept header; None when nothing is acceptable.

    No Accept header means "anything": the first offered format. At equal q a type the client
    names beats one it only reaches through a wildcard (``text/html, */*`` is a browser asking
    for HTML first, as Apache's negotiation reads it); then the server's order decides.
    """
    ranges = parse_accept(accept)
    if not ranges:
        return offered[0] if offered else None
    scored = []
    for index, fmt in enumerate(offered):
        specificity, q = _match(fmt, ranges)
        scored.append((q, specificity >= 2, -index, fmt))
    q, _named, _order, fmt = max(scored, key=lambda item: item[:3])
    return fmt if q > 0 else None
