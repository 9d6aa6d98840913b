"""A small structural HTML checker (stdlib html.parser): nesting, lang, headings, tables.

Not a full validator: it catches what breaks pages for people and assistive technology:
unclosed or misnested elements, a missing lang or title, no h1, skipped heading levels,
tables without header cells, images without alt, duplicate ids, links that go nowhere.
"""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
# Elements whose end tag HTML lets one omit; our templates always close them anyway.
OPTIONAL_END = {"p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "option"}


class Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: set[str] = set()
        self.headings: list[int] = []
        self.html_lang: str | None = None
        self.title = ""
        self._in_title = False
        self.tables = 0
        self.table_headers = 0
        self.links: list[str] = []
        self.scripts: dict[str, list[str]] = {}
        self._script_type: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.html_lang = attributes.get("lang")
        if "id" in attributes:
            if attributes["id"] in self.ids:
                self.problems.append(f"duplicate id {attributes['id']!r}")
            self.ids.add(attributes["id"] or "")
        if tag == "img" and "alt" not in attributes:
            self.problems.append("img without alt")
        if tag == "a":
            href = attributes.get("href")
            if not href:
                self.problems.append("a without href")
            else:
                self.links.append(href)
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.headings.append(int(tag[1]))
        if tag == "table":
            self.tables += 1
        if tag == "th":
            self.table_headers += 1
        if tag == "title":
            self._in_title = True
        if tag == "script":
            self._script_type = attributes.get("type") or "text/javascript"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if tag == "title":
            self._in_title = False
        if tag == "script":
            self._script_type = None
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._script_type:
            self.scripts.setdefault(self._script_type, []).append(data)


def check_html(text: str) -> Checker:
    checker = Checker()
    checker.feed(text)
    checker.close()
    problems = list(checker.problems)
    if checker.stack:
        problems.append(f"unclosed: {checker.stack}")
    if not checker.html_lang:
        problems.append("<html> without lang")
    if not checker.title.strip():
        problems.append("empty <title>")
    if checker.headings.count(1) != 1:
        problems.append(f"{checker.headings.count(1)} h1 elements")
    for before, after in zip(checker.headings, checker.headings[1:], strict=False):
        if after > before + 1:
            problems.append(f"heading level skips from h{before} to h{after}")
    if checker.tables and checker.table_headers < checker.tables:
        problems.append("a table without header cells")
    assert not problems, problems
    return checker
