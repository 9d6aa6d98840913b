"""`publisher new-source` (publisher/dataset/skeleton.py): the skeleton keeps the text exactly,
passes the shapes as written and once its examples are filled in, and refuses to overwrite or
to reuse a slug."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from publisher.cli import main
from publisher.dataset.pipeline import validate
from publisher.dataset.skeleton import END_OF_STATEMENTS, SkeletonError, write_skeleton
from publisher.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:8080/"
ISSUED = dt.date(2024, 2, 26)

HOSTILE_TEXT = (
    'He said: """quoted""" and \\n is not a line break; a lone " and a \\ too.\n'
    "\n"
    "Xocalı, Ходжалы — over 5,000 left; 613 people were killed.\t<script>alert(1)</script>\n"
)


def checkout(tmp_path: Path) -> Path:
    for directory in ("data", "ontology", "shapes"):
        shutil.copytree(ROOT / directory, tmp_path / directory)
    return tmp_path


def parse(path: Path) -> list[ox.Quad]:
    with path.open("rb") as stream:
        return list(ox.parse(stream, format=ox.RdfFormat.TRIG, base_iri=BASE))


def write(tmp_path: Path, text: str = HOSTILE_TEXT, **options) -> Path:
    source = tmp_path / "text.txt"
    source.write_text(text, encoding="utf-8")
    arguments = {
        "title": 'A "hostile" title\nwith a line break',
        "publisher": "Example Publisher (fictional)",
        "issued": ISSUED,
        "data_dir": tmp_path / "data",
        "base": BASE,
    } | options
    return write_skeleton(source, **arguments)


def test_text_and_title_survive_exactly(tmp_path: Path):
    path = write(tmp_path, language="az")
    assert path == tmp_path / "data" / "sources" / "a-hostile-title-with-a-line-2024-02-26.trig"
    quads = parse(path)
    texts = [q.object for q in quads if q.predicate.value == "https://schema.org/text"]
    assert [(t.value, t.language) for t in texts] == [(HOSTILE_TEXT.strip("\n"), "az")]
    titles = [q.object.value for q in quads if q.predicate.value.endswith("/terms/title")]
    assert titles == ['A "hostile" title with a line break']
    # A new publisher is described in the file's own curated block.
    publisher = BASE + "id/organisation/example-publisher-fictional"
    curated = {q.graph_name.value for q in quads if q.subject.value == publisher}
    assert curated == {BASE + "graph/curated"}


def test_a_described_publisher_is_referred_to(tmp_path: Path):
    checkout(tmp_path)
    path = write(tmp_path, publisher="embassy-of-azerbaijan-brussels", slug="second")
    quads = parse(path)
    assert not [q for q in quads if q.graph_name.value == BASE + "graph/curated"]
    publishers = {q.object.value for q in quads if q.predicate.value.endswith("/publisher")}
    assert publishers == {BASE + "id/organisation/embassy-of-azerbaijan-brussels"}


def test_refuses_to_overwrite_or_reuse_a_slug(tmp_path: Path):
    checkout(tmp_path)
    path = write(tmp_path, slug="second")
    before = path.read_bytes()
    with pytest.raises(SkeletonError, match="refusing to overwrite"):
        write(tmp_path, slug="second")
    assert path.read_bytes() == before
    with pytest.raises(SkeletonError, match="already used"):
        write(tmp_path, slug="press-release-2023-02-26", out=tmp_path / "elsewhere.trig")
    with pytest.raises(SkeletonError, match="lowercase"):
        write(tmp_path, slug="Bad Slug")


def test_bad_inputs_are_refused_with_a_message(tmp_path: Path):
    source = tmp_path / "latin1.txt"
    source.write_bytes("Xocalı".encode()[:-1] + b"\xff")
    with pytest.raises(SkeletonError, match="not UTF-8"):
        write_skeleton(
            source, title="t", publisher="p", issued=ISSUED, data_dir=tmp_path, base=BASE
        )
    with pytest.raises(SkeletonError, match="empty"):
        write(tmp_path, text="\n\n")
    with pytest.raises(SkeletonError, match="BCP 47"):
        write(tmp_path, language="Azerbaijani")
    with pytest.raises(SkeletonError, match="letters or digits"):
        write(tmp_path, publisher="—!")
    # Names in the data's own scripts are transliterated for slugs, kept as written in labels.
    path = write(tmp_path, title="Ходжалы, Xocalı faciəsi", publisher="Azərbaycan Nəşriyyatı")
    assert path.name == "khodzhaly-xocali-faciesi-2024-02-26.trig"
    quads = parse(path)
    publisher = BASE + "id/organisation/azerbaycan-nesriyyati"
    labels = {q.object.value for q in quads if q.subject.value == publisher}
    assert "Azərbaycan Nəşriyyatı" in labels


def test_cli_writes_and_then_refuses(tmp_path: Path):
    checkout(tmp_path)
    (tmp_path / "text.txt").write_text("613 people were killed.\n", encoding="utf-8")
    runner = CliRunner()
    arguments = [
        "new-source", str(tmp_path / "text.txt"), "--title", "Example", "--publisher",
        "Example Publisher", "--issued", "2024-02-26", "--data", str(tmp_path / "data"),
    ]  # fmt: skip
    first = runner.invoke(main, arguments)
    assert first.exit_code == 0, first.output
    assert "data/sources/example-2024-02-26.trig" in first.output
    second = runner.invoke(main, arguments)
    assert second.exit_code == 2 and "refusing to overwrite" in second.output
    bad_date = runner.invoke(main, [*arguments[:-4], "--issued", "26/02/2024"])
    assert bad_date.exit_code == 2 and "%Y-%m-%d" in bad_date.output


# Values a curator would write for each FILL-IN of the examples, in order of appearance.
FILLED = {
    "count-1": ("killed", "613 people killed, according to the example"),
    "count-2": ("expelled", "over 5,000 inhabitants expelled, according to the example"),
}
TEXT = (
    "Over 5,000 inhabitants were expelled. 613 people were killed.\n\n"
    "The example calls the attack premeditated. "
    "The Armenian armed forces carried out the attack, says the example."
)


def fill_in(skeleton: str) -> str:
    """Uncomment the four examples and complete them as a curator would."""
    lines = []
    example = 0
    for line in skeleton.splitlines():
        if line.startswith("    # <id/"):
            example += 1
        if example and line.startswith(("    # <id/", "    #     ")):
            line = "    " + line[len("    # ") :]
            slug = ["killed", "expelled", "premeditated", "attackers"][example - 1]
            line = line.replace("-FILL-IN>", f"-{slug}>")
            line = re.sub(r'rdfs:label "FILL-IN[^"]*"', f'rdfs:label "Example {slug}"', line)
            line = line.replace("<id/event/FILL-IN>", "<id/event/khojaly-attack>")
            line = line.replace("<id/group/FILL-IN>", f"<id/group/example-{slug}>")
            line = line.replace(
                "<id/organisation/FILL-IN>", "<id/organisation/armenian-armed-forces>"
            )
            line = re.sub(r'characterisedAs "FILL-IN[^"]*"', 'characterisedAs "premeditated"', line)
            quote = {
                "premeditated": "The example calls the attack premeditated.",
                "attackers": "The Armenian armed forces carried out the attack",
            }.get(slug)
            if quote:
                line = re.sub(r'schema:text "FILL-IN[^"]*"', f'schema:text "{quote}"', line)
        if END_OF_STATEMENTS in line:
            example = 0
        lines.append(line)
    filled = "\n".join(lines) + "\n"
    assert not [x for x in lines if "FILL-IN" in x and not x.lstrip().startswith("#")]
    return filled


def test_skeleton_passes_unfilled_and_filled(tmp_path: Path):
    """One validation run: the seed, an unfilled skeleton (of an Azerbaijani text), and a
    skeleton whose four examples are uncommented and completed all conform."""
    checkout(tmp_path)
    write(
        tmp_path,
        text="Bu uydurma nümunədir: Xocalı (Ходжалы) haqqında test mətni.",
        title="Uydurma nümunə",
        slug="example-unfilled",
        publisher="Example Publisher",
        language="az",
    )
    filled = write(
        tmp_path, text=TEXT, slug="example-filled", publisher="embassy-of-azerbaijan-brussels"
    )
    filled.write_text(fill_in(filled.read_text(encoding="utf-8")), encoding="utf-8")
    types = {
        q.object.value.rsplit("/", 1)[-1]
        for q in parse(filled)
        if q.predicate.value.endswith("#type")
    }
    assert {"Count", "Characterisation", "Attribution"} <= types
    values = {q.predicate.value.rsplit("/", 1)[-1]: q.object.value for q in parse(filled)}
    assert values["value"] == "613" and values["minExclusive"] == "5000"
    settings = load_settings(
        {
            "base_uri": BASE,
            "data_dir": str(tmp_path / "data"),
            "ontology_dir": str(tmp_path / "ontology"),
            "shapes_dir": str(tmp_path / "shapes"),
        },
        environ={},
    )
    report = validate(settings)
    assert report.conforms, report.text()


def test_examples_quote_the_texts_own_figures(tmp_path: Path):
    """From the seed's text, the examples quote its own sentences: a count (not a date, a year,
    an ordinal or a range) and the lower bound."""
    seed = parse(ROOT / "data" / "press-release-2023-02-26.trig")
    text = next(
        q.object.value
        for q in seed
        if q.predicate.value == "https://schema.org/text" and len(q.object.value) > 1000
    )
    skeleton = write(tmp_path, text=text).read_text(encoding="utf-8")
    assert "#     schema:value 613 ;" in skeleton
    assert '#     schema:text "613 people, including children' in skeleton
    assert "#     kg:minExclusive 5000 ;" in skeleton
    assert '"As a result of the occupation, over 5,000 inhabitants' in skeleton
