"""The dumps as pieces: written once, and again only where a file changed.

Every dump is a header, a sequence of pieces and a footer, each its own gzip member (RFC 1952
lets members follow one another: every gzip reader decodes the concatenation as one stream).
A piece holds the statements of a bucket of source files:

- a *default* piece (``d017``) holds the union default graph's triples whose subject's home
  file hashes to bucket 17 (the home of a subject: the first data file, by name, that states
  something about it; the ontology's subjects are at home in the ontology);
- a *named* piece (``n017``) holds the named graphs' quads whose (graph, subject) is at home
  in a file of bucket 17.

Each piece keeps its canonical text (its N-Triples or N-Quads lines, sorted) and is rendered
from it in every dump format by one function, whichever build asks (full or incremental):
the same statements give the same bytes. After an edit, only the pieces of the changed
files (and of the subjects whose home moved) are rendered again; the dumps are the cached
members concatenated. The plain size and SHA-256 of a dump are worked out by decoding the
members (ISA-L), in a thread per format.

Within a dump a subject's statements are grouped once per piece that holds them: Turtle
writes a subject once (its home holds all its triples); TriG and JSON-LD may write a graph in
several blocks (one per piece that holds some of its quads), which both formats allow.
"""

from __future__ import annotations

import ctypes
import functools
import gzip
import hashlib
import json
import mmap
import os
import re
import struct
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox
from isal import igzip

from publisher import formats, xmlsafe
from publisher.dataset import resumable_sha256
from publisher.dataset.load import ONTOLOGY_GRAPH, Dataset
from publisher.dataset.memory import release_freed_memory
from publisher.dataset.resumable_sha256 import STATE_BYTES
from publisher.dataset.void import Statistics
from publisher.namespaces import STANDARD_PREFIXES, prefixes

BUCKETS = 512
ONTOLOGY_HOME = ""  # sorts before every data file name: the ontology's subjects stay there
PIECE_FILE = "piece"
LINES_SECTION = "lines.nq.gz"
PROBLEM_FILE = "rdf-xml-problem.txt"
RDF_TYPE = STANDARD_PREFIXES["rdf"] + "type"
EXAMPLES = 5
# A published member is compressed by zlib at level 1: as small as ISA-L's level 2 on these
# pieces (ratio 0.095 both) at a quarter of its speed (200 MB/s), but deterministic. ISA-L's
# output for the same input differed between calls here (a piece whose gzip bytes differed
# between two builds while its content did not, about one test run in five; intel/isa-l#140
# asks whether it is deterministic), and a dump's bytes, checksums and build id must be a
# function of its content. zlib releases
# the GIL, so pieces still compress in parallel threads. A piece's kept canonical text is its
# N-Quads member (the same bytes); only an empty piece's is written by ISA-L.
MEMBER_LEVEL = 1
LINES_LEVEL = 2


def gzip_bytes(data: bytes) -> bytes:
    """A gzip member of published bytes (RFC 1952; mtime 0: a function of the content)."""
    return gzip.compress(data, MEMBER_LEVEL, mtime=0)


def _gzip_lines(data: bytes) -> bytes:
    return igzip.compress(data, LINES_LEVEL, mtime=0)


def bucket_of(home: str) -> int:
    digest = hashlib.blake2b(home.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


# A file above this size (a bulk dump rather than one document) spreads its subjects over all
# buckets, so that its pieces stay small and render in parallel.
SPREAD_BYTES = 4 << 20


def _bucket(home: str, subject: bytes, spread: frozenset[str]) -> int:
    if home in spread:
        return bucket_of(home + " " + subject.decode("utf-8", "surrogateescape"))
    return bucket_of(home)


def default_key(home: str, subject: bytes, spread: frozenset[str] = frozenset()) -> str:
    return f"d{_bucket(home, subject, spread):03d}"


def named_key(home: str, subject: bytes, spread: frozenset[str] = frozenset()) -> str:
    return f"n{_bucket(home, subject, spread):03d}"


def subject_token(line: bytes) -> bytes:
    return line[: line.index(b" ")]


def graph_token(line: bytes) -> bytes:
    """The graph of an N-Quads line of a named graph (`<s> <p> <o> <g> .`)."""
    return line.rsplit(b" ", 2)[1]


# --- rendering ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """What a dump has around its pieces, and how a piece's own frame is taken off."""

    header: bytes
    footer: bytes


def frames(base: str) -> dict[str, Frame]:
    """Header and footer of every dump format, taken from pyoxigraph's own output for one
    statement (so they are exactly what a whole-store dump would start and end with)."""
    probe = ox.Store()
    probe.add(
        ox.Quad(ox.NamedNode(base + "id/x"), ox.NamedNode(RDF_TYPE), ox.NamedNode(base + "def/X"))
    )
    result = {}
    for fmt in formats.DUMP_FORMATS:
        if fmt is formats.JSON_LD:  # pieces are joined by commas
            result[fmt.name] = Frame(header=b"[", footer=b"]\n")
            continue
        body = fmt.write(probe, prefixes=prefixes(base), base=base)
        inner = _strip(fmt, body)
        start = body.index(inner)
        result[fmt.name] = Frame(header=body[:start], footer=body[start + len(inner) :])
    return result


def _strip(fmt: formats.Format, body: bytes) -> bytes:
    """A piece's statements without the frame its format puts around a whole document."""
    if fmt in (formats.TURTLE, formats.TRIG):
        start = 0
        while body.startswith(b"@prefix ", start):
            start = body.index(b"\n", start) + 1
        return body[start:]
    if fmt is formats.RDF_XML:
        opening = body.index(b"<rdf:RDF")
        start = body.index(b">\n", opening) + 2
        end = body.rindex(b"</rdf:RDF>")
        return body[start:end]
    if fmt is formats.JSON_LD:
        inner = body.strip()[1:-1]
        return b"," + inner if inner else b""  # joined with commas; see _first_member
    return body


@dataclass
class PieceStats:
    """What VoID counts, for the triples of one default piece (subjects never span two)."""

    subjects: int = 0
    entities: int = 0
    classes: Counter = field(default_factory=Counter)  # class (N-Triples) -> instances
    properties: Counter = field(default_factory=Counter)  # property IRI -> triples
    graphs: Counter = field(default_factory=Counter)  # graph IRI -> quads (named pieces)
    examples: list[str] = field(default_factory=list)  # the first typed id/ IRIs

    def as_json(self) -> dict:
        return {
            "subjects": self.subjects,
            "entities": self.entities,
            "classes": dict(self.classes),
            "properties": dict(self.properties),
            "graphs": dict(self.graphs),
            "examples": self.examples,
        }

    @classmethod
    def from_json(cls, values: dict) -> PieceStats:
        return cls(
            subjects=values["subjects"],
            entities=values["entities"],
            classes=Counter(values["classes"]),
            properties=Counter(values["properties"]),
            graphs=Counter(values["graphs"]),
            examples=list(values["examples"]),
        )


@dataclass
class Rendered:
    key: str
    members: dict[str, bytes]  # format name -> gzip member (absent: the piece is empty)
    plains: dict[str, bytes]  # format name -> the member's decoded bytes
    rdf_xml_problem: str | None
    stats: PieceStats
    lines_member: bytes = b""  # the canonical text, gzipped (empty: the piece is empty)


# Formats whose piece is its canonical text as it is (sorted lines, one statement each).
LINE_FORMATS = (formats.N_TRIPLES, formats.N_QUADS)


def render_piece(key: str, lines: bytes, *, base: str) -> Rendered:
    """A piece in every dump format (a named piece only in those that carry graphs), from its
    canonical text; and its statistics."""
    named = key.startswith("n")
    store = ox.Store()
    if lines:
        store.load(lines, format=ox.RdfFormat.N_QUADS)
    members: dict[str, bytes] = {}
    plains: dict[str, bytes] = {}
    problem = None
    stats = _stats(store, named=named, base=base)
    # The canonical text is already the lines of N-Triples and N-Quads (a default piece's
    # triples are N-Quads lines of the default graph too): compressed once, it is their member
    # (and the piece's kept text), no store dump needed.
    lines_member = gzip_bytes(lines) if lines else b""
    for fmt in formats.DUMP_FORMATS:
        if named and not fmt.supports_datasets:
            continue
        if fmt in LINE_FORMATS:
            if lines_member:
                members[fmt.name], plains[fmt.name] = lines_member, lines
            continue
        body = fmt.write(store, prefixes=prefixes(base), base=base)
        if fmt is formats.RDF_XML and lines:
            problem = _rdf_xml_problem(store, body, predicates=stats.properties)
        inner = _strip(fmt, body) if lines else b""
        if inner:
            members[fmt.name] = gzip_bytes(inner)
            plains[fmt.name] = inner
    return Rendered(key, members, plains, problem, stats, lines_member)


@functools.lru_cache(maxsize=4096)
def _predicate_problem(predicate: str) -> str | None:
    # Every piece has the same few dozen predicates: checked once each, not once per piece.
    return xmlsafe.predicate_problem(ox.NamedNode(predicate))


def _rdf_xml_problem(store: ox.Store, body: bytes, *, predicates: Iterable[str]) -> str | None:
    """Why this piece cannot be RDF/XML, or None: the distinct predicates, then the bytes;
    only a failure walks the triples to name the term."""
    for predicate in predicates:
        if problem := _predicate_problem(predicate):
            return problem
    if xmlsafe.has_forbidden_bytes(body):
        return xmlsafe.rdf_xml_problem(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    return None


def _count(row: ox.QuerySolution, variable: str = "n") -> int:
    return int(row[variable].value)


def _stats(store: ox.Store, *, named: bool, base: str) -> PieceStats:
    """By SPARQL (evaluated without the GIL, so pieces count in parallel threads)."""
    stats = PieceStats()
    if named:
        query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        stats.graphs.update({row["g"].value: _count(row) for row in store.query(query)})
        return stats
    entity = f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{base}id/"))'
    totals = next(iter(store.query("SELECT (COUNT(DISTINCT ?s) AS ?subjects) WHERE { ?s ?p ?o }")))
    stats.subjects = _count(totals, "subjects")
    stats.entities = _count(
        next(iter(store.query(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o {entity} }}")))
    )
    query = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"
    stats.properties.update({row["p"].value: _count(row) for row in store.query(query)})
    query = "SELECT ?c (COUNT(*) AS ?n) WHERE { ?s a ?c } GROUP BY ?c"
    stats.classes.update({str(row["c"]): _count(row) for row in store.query(query)})
    query = f"SELECT DISTINCT ?s WHERE {{ ?s a ?c {entity} }} ORDER BY ?s LIMIT {EXAMPLES}"
    stats.examples = [row["s"].value for row in store.query(query)]
    return stats


# --- the pieces of a directory -----------------------------------------------------------


def _file(directory: Path, key: str, name: str) -> Path:
    # One flat directory (d017.piece): a directory per piece made the removal of an old
    # build's pieces cost seconds (rmdir is slow on ext4).
    return directory / f"{key}.{name}"


def write_piece(directory: Path, lines: bytes, rendered: Rendered) -> None:
    """A piece's file: its canonical text, and a member per format with its decoded bytes,
    as sections of one file (PIECE_FILE: a JSON line of offsets, then the bytes). One file,
    not thirteen: an incremental build hard-links every unchanged piece into its own
    directory, and ten thousand links cost most of a second.

    The decoded bytes are kept because a dump's checksum is also stated for its decoded
    content (void.ttl), and SHA-256 cannot be combined from the pieces' checksums: every
    build hashes every dump's decoded bytes again, and reading them costs a quarter of
    decoding the members (which was most of an incremental build's time at 10k documents)."""
    directory.mkdir(parents=True, exist_ok=True)
    sections = [(LINES_SECTION, rendered.lines_member or _gzip_lines(lines))]
    for name, member in rendered.members.items():
        sections += [(f"{name}.gz", member), (name, rendered.plains[name])]
    # The same bytes are one section under several names (the line formats' member is the
    # kept text; their decoded bytes are the lines).
    offsets: dict[str, list[int]] = {}
    placed: dict[int, list[int]] = {}
    written: list[bytes] = []
    at = 0
    for name, body in sections:
        if id(body) not in placed:
            placed[id(body)] = [at, len(body)]
            written.append(body)
            at += len(body)
        offsets[name] = placed[id(body)]
    with _file(directory, rendered.key, PIECE_FILE).open("wb") as stream:
        stream.write(json.dumps(offsets, sort_keys=True).encode() + b"\n")
        for body in written:
            stream.write(body)
    if rendered.rdf_xml_problem:
        _file(directory, rendered.key, PROBLEM_FILE).write_text(
            rendered.rdf_xml_problem, encoding="utf-8"
        )


class _PieceFile:
    """A piece's file, mapped: any of its sections as bytes, or as an address in the mapping
    (hashed from the page cache: no copy, no buffer object). The mapping is private and
    writable (copy-on-write, never written) because ctypes takes the address of writable
    buffers only. `offsets`: the file's offsets line, when the caller parsed it already."""

    def __init__(self, descriptor: int, key: str, offsets: dict[str, list[int]] | None) -> None:
        self.key = key
        status = os.fstat(descriptor)
        self._identity = _identity_of(status)
        self.map = mmap.mmap(descriptor, status.st_size, access=mmap.ACCESS_COPY)
        self.start = self.map.find(b"\n") + 1
        self.offsets = offsets if offsets is not None else json.loads(self.map[: self.start])
        self._anchor: ctypes.c_char | None = None

    def _span(self, name: str) -> tuple[int, int]:
        at, length = self.offsets[name]
        begin = self.start + at
        if begin + length > len(self.map):
            raise OSError(f"{self.key}.{PIECE_FILE}: section {name} is cut short")
        return begin, length

    def read(self, name: str) -> bytes:
        begin, length = self._span(name)
        return self.map[begin : begin + length]

    def address(self, name: str) -> tuple[int, int]:
        """(address, length) of the section; valid until the piece is closed."""
        begin, length = self._span(name)
        if self._anchor is None:
            self._anchor = ctypes.c_char.from_buffer(self.map)
        return ctypes.addressof(self._anchor) + begin, length

    def identity(self) -> tuple[int, int, int]:
        return self._identity

    def close(self) -> None:
        self._anchor = None  # the mapping cannot close while ctypes holds it
        self.map.close()


@contextmanager
def _open_piece(
    directory: Path, key: str, *, offsets: dict[str, dict[str, list[int]]] | None = None
) -> Iterator[_PieceFile | None]:
    """The piece's file, or None when the piece has none. `offsets`: key -> offsets, shared
    by the dumps' threads (a piece is in three dumps: its offsets line is parsed once)."""
    try:
        descriptor = os.open(_file(directory, key, PIECE_FILE), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        yield None
        return
    try:
        piece = _PieceFile(descriptor, key, offsets.get(key) if offsets is not None else None)
    finally:
        os.close(descriptor)  # the mapping keeps the file
    if offsets is not None:
        offsets[key] = piece.offsets
    try:
        yield piece
    finally:
        piece.close()


def read_lines(directory: Path, key: str) -> bytes:
    """A piece's canonical text (none: the piece has no file)."""
    with _open_piece(directory, key) as piece:
        member = piece.read(LINES_SECTION) if piece is not None else b""
    return igzip.decompress(member) if member else b""


def link_pieces(source: Path, target: Path, *, skip: Iterable[str]) -> None:
    """The unchanged pieces of the previous build, hard-linked (no copy) into the new one."""
    skipped = set(skip)
    target.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        key = path.name.split(".", 1)[0]
        if key in skipped or not _is_key(key):
            continue
        os.link(path, target / path.name)


def _is_key(name: str) -> bool:
    return len(name) == 4 and name[0] in "dn" and name[1:].isdigit()


def sorted_lines(lines: Iterable[bytes]) -> bytes:
    unique = sorted(set(line for line in lines if line))
    return b"".join(line + b"\n" for line in unique)


# --- the dumps ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AssembledDump:
    name: str  # dataset.ttl.gz
    gz_sha256: str
    plain_size: int
    plain_sha256: str


def piece_keys(directory: Path, *, also: Iterable[str] = ()) -> list[str]:
    """Default pieces first, then named ones, each in bucket order (`also`: more keys)."""
    keys = {p.name.split(".", 1)[0] for p in directory.iterdir()} | set(also)
    return sorted((k for k in keys if _is_key(k)), key=lambda k: (k[0] != "d", k))


def assemble(
    directory: Path,
    *,
    target: Path,
    base: str,
    left_out: set[str],
    previous: Path | None = None,
    previous_dumps: Path | None = None,
    unchanged: frozenset[str] = frozenset(),
) -> list[AssembledDump]:
    """Every dump into `target`, from the pieces in `directory` (a thread per format: file
    reads, copies and hashing release the GIL). `previous`: the previous build's pieces
    directory, `previous_dumps`: the directory of the dumps it made; a dump then starts as a
    copy of the previous one's bytes up to its first changed piece, its checksums resumed
    from there (the chain, below). `unchanged`: pieces read from `previous` (the same files:
    an incremental build links them into `directory` meanwhile, off the critical path)."""
    if unchanged and previous is None:
        raise ValueError("unchanged pieces without the previous pieces' directory")
    keys = piece_keys(directory, also=unchanged)

    def where(key: str) -> Path:
        return previous if previous is not None and key in unchanged else directory

    framing = frames(base)
    wanted = [f for f in formats.DUMP_FORMATS if f.name not in left_out]
    offsets: dict[str, dict[str, list[int]]] = {}  # by piece, shared by the threads
    with ThreadPoolExecutor(max_workers=len(wanted), thread_name_prefix="assemble") as pool:
        return list(
            pool.map(
                lambda fmt: _assemble_one(
                    fmt,
                    directory=directory,
                    where=where,
                    keys=keys,
                    frame=framing[fmt.name],
                    target=target,
                    offsets=offsets,
                    previous=_read_chain(previous, fmt) if previous is not None else [],
                    previous_dump=previous_dumps / formats.dump_name(fmt)
                    if previous_dumps is not None
                    else None,
                ),
                wanted,
            )
        )


# A dump's checksum chain: after its header and after each piece, the piece's identity, the
# dump's size so far (gzip and decoded) and the SHA-256 states of both. The next build's dump
# is the same up to its first piece that is not the same file (an unchanged piece is a hard
# link to the previous build's: same inode, size and time): that prefix is copied from the
# previous dump, and the checksums resume after it (resumable_sha256). Written in the pieces
# directory of every build.
_LINK = struct.Struct(f"<4sQQQQQ{STATE_BYTES}s{STATE_BYTES}s")
_HEADER_KEY = "head"


@dataclass(frozen=True)
class _Link:
    key: str
    identity: tuple[int, int, int]  # the piece file's inode, size, mtime (header: zeros)
    gz_size: int
    plain_size: int
    plain_state: bytes
    gz_state: bytes


def _chain_path(directory: Path, fmt: formats.Format) -> Path:
    return directory / f"chain.{fmt.name}"


def _read_chain(directory: Path, fmt: formats.Format) -> list[_Link]:
    if not resumable_sha256.available():
        return []
    try:
        data = _chain_path(directory, fmt).read_bytes()
    except FileNotFoundError:
        return []
    if len(data) % _LINK.size:
        return []  # not a chain this code wrote: hash the dump whole
    return [
        _Link(key.decode(), (ino, size, mtime), gz_size, plain_size, plain_state, gz_state)
        for key, ino, size, mtime, gz_size, plain_size, plain_state, gz_state in (
            _LINK.iter_unpack(data)
        )
    ]


def _write_chain(directory: Path, fmt: formats.Format, links: list[_Link]) -> None:
    _chain_path(directory, fmt).write_bytes(
        b"".join(
            _LINK.pack(
                link.key.encode(),
                *link.identity,
                link.gz_size,
                link.plain_size,
                link.plain_state,
                link.gz_state,
            )
            for link in links
        )
    )


def _identity(directory: Path, key: str) -> tuple[int, int, int]:
    return _identity_of(os.stat(_file(directory, key, PIECE_FILE)))


def _identity_of(status: os.stat_result) -> tuple[int, int, int]:
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _unchanged_prefix(
    fmt: formats.Format,
    *,
    where: Callable[[str], Path],
    keys: list[str],
    frame: Frame,
    previous: list[_Link],
    offsets: dict[str, dict[str, list[int]]] | None = None,
) -> tuple[list[_Link], int]:
    """The previous chain's links that still hold (the header's, then the pieces' up to the
    first one that is not the same file in the same place), and the index in `keys` where
    the dump starts to differ. A piece without this format is in no chain: skipped."""
    links: list[_Link] = []
    if frame.header:
        if not previous or previous[0].key != _HEADER_KEY:
            return [], 0
        links.append(previous[0])
    for index, key in enumerate(keys):
        link = previous[len(links)] if len(links) < len(previous) else None
        if link is not None and link.key == key and link.identity == _identity(where(key), key):
            links.append(link)
            continue
        with _open_piece(where(key), key, offsets=offsets) as piece:
            if piece is None or f"{fmt.name}.gz" not in piece.offsets:
                continue
        return links, index
    return links, len(keys)


def _copy_prefix(source: Path, out: BinaryIO, length: int) -> bool:
    """The first `length` bytes of `source` onto `out`, in the kernel; False when `source`
    is not there, or shorter."""
    try:
        stream = source.open("rb")
    except FileNotFoundError:
        return False
    with stream:
        if os.fstat(stream.fileno()).st_size < length:
            return False
        out.flush()
        copied = 0
        while copied < length:
            done = os.copy_file_range(stream.fileno(), out.fileno(), length - copied)
            if done == 0:
                return False
            copied += done
        out.seek(copied)
    return True


def _assemble_one(
    fmt: formats.Format,
    *,
    directory: Path,
    where: Callable[[str], Path],
    keys: list[str],
    frame: Frame,
    target: Path,
    previous: list[_Link],
    previous_dump: Path | None,
    offsets: dict[str, dict[str, list[int]]] | None = None,
) -> AssembledDump:
    name = formats.dump_name(fmt)
    resumable = resumable_sha256.available()
    make = resumable_sha256.Sha256 if resumable else hashlib.sha256
    gz_digest, plain_digest, gz_size, plain_size = make(), make(), 0, 0
    chain: list[_Link] = []
    rest = keys
    with (target / name).open("wb") as out:
        if previous and previous_dump is not None:
            kept, start = _unchanged_prefix(
                fmt, where=where, keys=keys, frame=frame, previous=previous, offsets=offsets
            )
            if kept and _copy_prefix(previous_dump, out, kept[-1].gz_size):
                last = kept[-1]
                gz_digest = resumable_sha256.Sha256(last.gz_state)
                plain_digest = resumable_sha256.Sha256(last.plain_state)
                gz_size, plain_size = last.gz_size, last.plain_size
                chain, rest = kept, keys[start:]
            else:
                out.seek(0)
                out.truncate()

        def put(
            key: str, identity: tuple[int, int, int], member: bytes, plain: bytes | tuple[int, int]
        ) -> None:
            """Append a member; `plain`: its decoded bytes, or their (address, length)."""
            nonlocal gz_size, plain_size
            out.write(member)
            gz_digest.update(member)
            if isinstance(plain, bytes):
                plain_digest.update(plain)
                plain_size += len(plain)
            else:
                plain_digest.update_at(*plain)
                plain_size += plain[1]
            gz_size += len(member)
            if resumable:
                chain.append(
                    _Link(
                        key,
                        identity,
                        gz_size,
                        plain_size,
                        plain_digest.state(),
                        gz_digest.state(),
                    )
                )

        if frame.header and not chain:
            put(_HEADER_KEY, (0, 0, 0), gzip_bytes(frame.header), frame.header)
        # The first piece of the JSON-LD dump has no comma before it.
        first = len(chain) <= (1 if frame.header else 0)
        # Decoded bytes are only hashed: hashed from the piece's mapping (no copy, no new
        # gigabytes of bytes objects to fault in and free).
        for key in rest:
            with _open_piece(where(key), key, offsets=offsets) as piece:
                if piece is None or f"{fmt.name}.gz" not in piece.offsets:
                    continue
                member = piece.read(f"{fmt.name}.gz")
                if first and fmt is formats.JSON_LD:
                    plain = piece.read(fmt.name)[1:]
                    put(key, piece.identity(), gzip_bytes(plain), plain)
                else:
                    plain = piece.address(fmt.name) if resumable else piece.read(fmt.name)
                    put(key, piece.identity(), member, plain)
                first = False
        if frame.footer:
            footer = gzip_bytes(frame.footer)
            out.write(footer)
            gz_digest.update(footer)
            plain_digest.update(frame.footer)
            plain_size += len(frame.footer)
    if resumable:
        _write_chain(directory, fmt, chain)
    return AssembledDump(name, gz_digest.hexdigest(), plain_size, plain_digest.hexdigest())


# --- statistics from pieces --------------------------------------------------------------


def merged_examples(stats: Iterable[PieceStats]) -> list[str]:
    return sorted({e for s in stats for e in s.examples})[:EXAMPLES]


# A run of N-Triples lines about one subject (the union's dump keeps a subject's triples
# together, mostly: 38k runs for 254k lines at 1,000 documents), found by the regex engine.
_SUBJECT_RUN = re.compile(rb"^([^ \n]+) [^\n]*\n(?:\1 [^\n]*\n)*", re.MULTILINE)


def split_by_home(
    lines: bytes, home_of: dict[bytes, str], *, fallback: str, spread: frozenset[str]
) -> dict[str, list[tuple[int, int]]]:
    """Where the lines of a text (N-Triples, each line ending in a newline) are, by the key of
    their subject's home: (start, end) offsets of runs of lines about one subject. Offsets,
    not the lines: at 10,000 documents the union's 2.5M lines as bytes objects held some
    450 MB beside the text itself, at the build's peak; the pieces' workers copy their own."""
    pieces: dict[str, list[tuple[int, int]]] = defaultdict(list)
    keys: dict[bytes, str] = {}
    covered = 0
    for run in _SUBJECT_RUN.finditer(lines):
        subject = run.group(1)
        key = keys.get(subject)
        if key is None:
            key = keys[subject] = default_key(home_of.get(subject, fallback), subject, spread)
        start, end = run.span()
        pieces[key].append((start, end))
        covered += end - start
    if covered != len(lines):  # a line the pattern missed would be a statement left out
        raise ValueError(f"{len(lines) - covered} bytes of the text are not N-Triples lines")
    return pieces


def lines_at(text: bytes, spans: Iterable[tuple[int, int]]) -> bytes:
    """The canonical text of the lines at `spans` of `text` (split_by_home)."""
    view = memoryview(text)
    try:
        return sorted_lines(b"".join(view[start:end] for start, end in spans).split(b"\n"))
    finally:
        view.release()


# --- a full build's pieces ---------------------------------------------------------------


@dataclass
class Homes:
    """Where statements live: the home file of every subject (for the union's triples) and of
    every (graph, subject) pair (for the named graphs' quads)."""

    subject_home: dict[bytes, str]  # subject (N-Triples) -> home file
    graph_home: dict[str, str | None]  # graph IRI -> its only file, None when several
    pair_home: dict[tuple[str, bytes], str]  # (graph of several files, subject) -> home
    spread: frozenset[str] = frozenset()  # big files, whose subjects go to every bucket

    def in_graph(self, graph: str, subject: bytes) -> str:
        home = self.graph_home.get(graph)
        if home is not None:
            return home
        return self.pair_home.get((graph, subject), ONTOLOGY_HOME)


def write_all(
    store: ox.Store, *, homes: Homes, directory: Path, base: str, workers: int = 4
) -> dict[str, PieceStats]:
    """Split the store (union in its default graph) into pieces, render and write them all:
    the default pieces, then the named ones (one text in memory at a time)."""
    union = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    spans = split_by_home(union, homes.subject_home, fallback=ONTOLOGY_HOME, spread=homes.spread)
    # Each piece's canonical text is made by the worker that renders it, from its lines in
    # the union's text: a few pieces' texts at a time, not a second copy of the whole store's.
    prepare = functools.partial(lines_at, union)
    del union
    stats = render_and_write(
        spans, directory=directory, base=base, workers=workers, consume=True, prepare=prepare
    )
    del prepare  # the union's text
    release_freed_memory()
    # A graph of one file goes to its piece whole: named by the graph here, its quads dumped
    # by the worker that renders the piece (the named graphs' text never all in memory).
    named: dict[str, list[bytes | ox.NamedNode | ox.BlankNode]] = defaultdict(list)
    for graph in store.named_graphs():
        home = homes.graph_home.get(graph.value)
        if home is not None and home not in homes.spread:
            named[named_key(home, b"")].append(graph)
            continue
        for line in _graph_quads(store, graph).split(b"\n"):
            if line:
                subject = subject_token(line)
                home = homes.in_graph(graph.value, subject)
                named[named_key(home, subject, homes.spread)].append(line)
    stats.update(
        render_and_write(
            named,
            directory=directory,
            base=base,
            workers=workers,
            consume=True,
            prepare=lambda parts: sorted_lines(
                b"\n".join(
                    part if isinstance(part, bytes) else _graph_quads(store, part) for part in parts
                ).split(b"\n")
            ),
        )
    )
    release_freed_memory()
    return stats


def _graph_quads(store: ox.Store, graph: ox.NamedNode | ox.BlankNode) -> bytes:
    """A named graph's N-Quads lines."""
    token = str(graph).encode()
    body = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
    return body.replace(b" .\n", b" " + token + b" .\n")


def render_and_write(
    pieces: dict[str, Any],
    *,
    directory: Path,
    base: str,
    workers: int = 4,
    consume: bool = False,
    prepare: Callable[[Any], bytes] | None = None,
) -> dict[str, PieceStats]:
    """Render and write every piece; `consume`: take each text out of `pieces` as its worker
    starts (a full build's texts are the whole store's: memory shrinks as the pieces are
    done); `prepare`: what makes a piece's canonical text of its value in `pieces` (bytes
    already, without it)."""
    directory.mkdir(parents=True, exist_ok=True)

    def one(key: str) -> PieceStats:
        value = pieces.pop(key) if consume else pieces[key]
        lines = prepare(value) if prepare is not None else value
        del value
        rendered = render_piece(key, lines, base=base)
        write_piece(directory, lines, rendered)
        return rendered.stats

    keys = sorted(pieces)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="piece") as pool:
        return dict(zip(keys, pool.map(one, keys), strict=True))


def rdf_xml_problems(
    directory: Path, *, previous: Path | None = None, unchanged: frozenset[str] = frozenset()
) -> list[str]:
    """Why pieces cannot be RDF/XML (then the RDF/XML dump is left out); the `unchanged`
    pieces' reasons are read from `previous` (see `assemble`)."""
    files = {p.name: p for p in directory.glob(f"*.{PROBLEM_FILE}")}
    if previous is not None:
        for path in previous.glob(f"*.{PROBLEM_FILE}"):
            if path.name.split(".", 1)[0] in unchanged:
                files[path.name] = path
    return [files[name].read_text(encoding="utf-8") for name in sorted(files)]


# --- an incremental build's pieces -------------------------------------------------------


def home_in_store(
    store: ox.Store, subject: ox.NamedNode | ox.BlankNode, homes: Homes
) -> str | None:
    """The home of a subject in this store (None: no graph states anything about it)."""
    token = str(subject).encode()
    best = None
    for quad in store.quads_for_pattern(subject, None, None, None):
        if isinstance(quad.graph_name, ox.DefaultGraph):
            continue
        home = homes.in_graph(quad.graph_name.value, token)
        if best is None or home < best:
            best = home
    return best


def _graph_has(store: ox.Store, subject: ox.NamedNode | ox.BlankNode, graph: ox.NamedNode) -> bool:
    return next(iter(store.quads_for_pattern(subject, None, None, graph)), None) is not None


@dataclass
class PieceChange:
    """The pieces an incremental build renders again, before and after."""

    old: dict[str, bytes]  # key -> canonical text before
    new: dict[str, bytes]  # key -> canonical text after


def changed_pieces(
    quads: Iterable[ox.Quad],
    *,
    old_store: ox.Store,
    new_store: ox.Store,
    old_homes: Homes,
    new_homes: Homes,
    old_dir: Path,
) -> PieceChange:
    """The canonical texts of the pieces that hold a statement about a subject (or a graph's
    subject) that `quads` (added or removed) touch, before and after."""
    subjects: dict[bytes, ox.NamedNode | ox.BlankNode] = {}
    pairs: dict[tuple[str, bytes], tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode]] = {}
    for quad in quads:
        token = str(quad.subject).encode()
        subjects[token] = quad.subject
        pairs[(quad.graph_name.value, token)] = (quad.subject, quad.graph_name)
    leaving: dict[str, set] = defaultdict(set)  # key -> subjects (or pairs) whose lines leave
    arriving: dict[str, set] = defaultdict(set)
    for token, subject in subjects.items():
        before = home_in_store(old_store, subject, old_homes)
        after = home_in_store(new_store, subject, new_homes)
        if before is not None:
            leaving[default_key(before, token, old_homes.spread)].add(token)
        if after is not None:
            arriving[default_key(after, token, new_homes.spread)].add(token)
    for (graph, token), (subject, graph_node) in pairs.items():
        pair = (graph.encode(), token)
        if _graph_has(old_store, subject, graph_node):
            home = old_homes.in_graph(graph, token)
            leaving[named_key(home, token, old_homes.spread)].add(pair)
        if _graph_has(new_store, subject, graph_node):
            home = new_homes.in_graph(graph, token)
            arriving[named_key(home, token, new_homes.spread)].add(pair)
    change = PieceChange(old={}, new={})
    for key in sorted(set(leaving) | set(arriving)):
        text = read_lines(old_dir, key)
        change.old[key] = text
        gone = leaving.get(key, set())
        if key.startswith("d"):
            kept = [line for line in text.split(b"\n") if line and subject_token(line) not in gone]
            added = [
                ox.Triple(q.subject, q.predicate, q.object)
                for token in arriving.get(key, ())
                for q in new_store.quads_for_pattern(subjects[token], None, None, ox.DefaultGraph())
            ]
            fresh = ox.serialize(added, format=ox.RdfFormat.N_TRIPLES) if added else b""
        else:
            kept = [
                line
                for line in text.split(b"\n")
                if line and (graph_token(line)[1:-1], subject_token(line)) not in gone
            ]
            added_quads = [
                q
                for graph, token in arriving.get(key, ())
                for q in new_store.quads_for_pattern(
                    subjects[token], None, None, ox.NamedNode(graph.decode())
                )
            ]
            fresh = ox.serialize(added_quads, format=ox.RdfFormat.N_QUADS) if added_quads else b""
        change.new[key] = sorted_lines([*kept, *fresh.split(b"\n")])
    return change


def homes_from_dataset(dataset: Dataset, *, data_dir: Path) -> Homes:
    """A full build's homes, from what the loader noted (a triple-format file, whose
    subjects it did not note, is read again)."""
    from publisher.dataset.incremental import data_name

    ontology = dataset.base + ONTOLOGY_GRAPH
    graph_files: dict[str, set[str]] = defaultdict(set)
    subjects_of: dict[str, dict[str, set[str]]] = {}
    for path, forced in dataset.files:
        if forced is not None:
            continue
        name = data_name(path, data_dir)
        if name is None:
            continue
        noted = dataset.subjects_by_graph(path)
        subjects_of[name] = noted
        for graph in noted:
            graph_files[graph].add(name)
    subject_home: dict[bytes, str] = {}
    pair_home: dict[tuple[str, bytes], str] = {}
    graph_home = _graph_homes(graph_files, ontology=ontology)
    for name in sorted(subjects_of, reverse=True):  # the smallest name written last wins
        for graph, subjects in subjects_of[name].items():
            shared = graph_home.get(graph) is None
            for subject in subjects:
                token = subject.encode()
                home = ONTOLOGY_HOME if graph == ontology else name
                if graph == ontology or home <= subject_home.get(token, home):
                    subject_home[token] = home
                if shared:
                    pair_home[(graph, token)] = name
    for quad in dataset.store.quads_for_pattern(None, None, None, ox.NamedNode(ontology)):
        subject_home[str(quad.subject).encode()] = ONTOLOGY_HOME
    spread = frozenset(
        name
        for path, forced in dataset.files
        if forced is None
        and path.stat().st_size > SPREAD_BYTES
        and (name := data_name(path, data_dir)) is not None
    )
    return Homes(
        subject_home=subject_home, graph_home=graph_home, pair_home=pair_home, spread=spread
    )


def _graph_homes(graph_files: dict[str, set[str]], *, ontology: str) -> dict[str, str | None]:
    """graph -> its only file, None when several files write it; the ontology's graph is at
    home in the ontology."""
    homes: dict[str, str | None] = {
        graph: next(iter(names)) if len(names) == 1 else None
        for graph, names in graph_files.items()
    }
    homes[ontology] = ONTOLOGY_HOME
    return homes


def homes_from_files(
    files: dict[str, list[str]],
    shared: dict[str, dict[str, list[str]]],
    *,
    base: str,
    spread: frozenset[str],
) -> Homes:
    """Homes from a manifest: graphs by file, and the subjects of shared graphs by file."""
    graph_files: dict[str, set[str]] = defaultdict(set)
    for name, graphs in files.items():
        for graph in graphs:
            graph_files[graph].add(name)
    graph_home = _graph_homes(graph_files, ontology=base + ONTOLOGY_GRAPH)
    pair_home = {
        (graph, subject.encode()): min(names)
        for graph, subjects in shared.items()
        for subject, names in subjects.items()
        if names
    }
    return Homes(subject_home={}, graph_home=graph_home, pair_home=pair_home, spread=spread)


STATS_FILE = "stats.json"


def save_statistics(
    directory: Path, statistics: Statistics, *, piece_stats: dict[str, PieceStats]
) -> None:
    values = {
        "statistics": statistics_json(statistics),
        "pieces": {k: v.as_json() for k, v in sorted(piece_stats.items())},
    }
    (directory / STATS_FILE).write_text(json.dumps(values, sort_keys=True), encoding="utf-8")


def load_statistics(directory: Path) -> tuple[Statistics, dict[str, PieceStats]]:
    values = json.loads((directory / STATS_FILE).read_text(encoding="utf-8"))
    pieces = {k: PieceStats.from_json(v) for k, v in values["pieces"].items()}
    return statistics_from_json(values["statistics"]), pieces


def _term(token: str) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if token.startswith("_:"):
        return ox.BlankNode(token[2:])
    if token.startswith('"'):  # a class that is a literal (data built without the shapes)
        line = f"<x:s> <x:p> {token} .".encode()
        return next(iter(ox.parse(line, format=ox.RdfFormat.N_TRIPLES))).object
    return ox.NamedNode(token[1:-1])


def statistics_json(stats: Statistics) -> dict:
    return {
        "subjects": stats.subjects,
        "properties": stats.properties,
        "objects": stats.objects,
        "entities": stats.entities,
        "classes": [[str(c), n] for c, n in stats.classes],
        "property_triples": [[p.value, n] for p, n in stats.property_triples],
        "graph_triples": [[str(g), n] for g, n in stats.graph_triples],
        "examples": [e.value for e in stats.examples],
    }


def statistics_from_json(values: dict) -> Statistics:
    return Statistics(
        subjects=values["subjects"],
        properties=values["properties"],
        objects=values["objects"],
        entities=values["entities"],
        classes=[(_term(c), n) for c, n in values["classes"]],
        property_triples=[(ox.NamedNode(p), n) for p, n in values["property_triples"]],
        graph_triples=[(_term(g), n) for g, n in values["graph_triples"]],
        examples=[ox.NamedNode(e) for e in values["examples"]],
    )


def _sparql_order(token: str) -> tuple[int, str]:
    # ORDER BY puts blank nodes before IRIs, and IRIs in code point order.
    return (
        0 if token.startswith("_:") else 1,
        token[2:] if token.startswith("_:") else token[1:-1],
    )


def updated_statistics(
    previous: Statistics,
    *,
    before: dict[str, PieceStats],
    after: dict[str, PieceStats],
    all_after: dict[str, PieceStats],
    objects_delta: int,
) -> Statistics:
    """The previous statistics, with what the re-rendered pieces changed."""
    classes = Counter({str(c): n for c, n in previous.classes})
    properties = Counter({p.value: n for p, n in previous.property_triples})
    graphs = Counter({str(g): n for g, n in previous.graph_triples})
    subjects, entities = previous.subjects, previous.entities
    for sign, side in ((-1, before), (1, after)):
        for piece in side.values():
            subjects += sign * piece.subjects
            entities += sign * piece.entities
            for c, n in piece.classes.items():
                classes[c] += sign * n
            for p, n in piece.properties.items():
                properties[p] += sign * n
            for g, n in piece.graphs.items():
                graphs[f"<{g}>"] += sign * n
    return Statistics(
        subjects=subjects,
        properties=sum(1 for n in properties.values() if n > 0),
        objects=previous.objects + objects_delta,
        entities=entities,
        classes=[
            (_term(c), n)
            for c, n in sorted(classes.items(), key=lambda i: _sparql_order(i[0]))
            if n > 0
        ],
        property_triples=[(ox.NamedNode(p), n) for p, n in sorted(properties.items()) if n > 0],
        graph_triples=[
            (_term(g), n)
            for g, n in sorted(graphs.items(), key=lambda i: _sparql_order(i[0]))
            if n > 0
        ],
        examples=[ox.NamedNode(e) for e in merged_examples(all_after.values())],
    )


def statistics_from_pieces(
    piece_stats: dict[str, PieceStats], *, objects: int
) -> Statistics | None:
    """A full build's statistics, summed from its pieces' (as an incremental build updates
    them) and the number of distinct objects (which pieces cannot sum: an object spans
    pieces). None when a class is a literal: the sum orders only IRIs and blank nodes as
    SPARQL does (void_statistics then)."""
    if any(c.startswith('"') for piece in piece_stats.values() for c in piece.classes):
        return None
    empty = Statistics(
        subjects=0,
        properties=0,
        objects=0,
        entities=0,
        classes=[],
        property_triples=[],
        graph_triples=[],
        examples=[],
    )
    return updated_statistics(
        empty, before={}, after=piece_stats, all_after=piece_stats, objects_delta=objects
    )


def objects_delta(change: PieceChange, *, old_store: ox.Store, new_store: ox.Store) -> int:
    """How many distinct objects of the union the change adds (negative: removes)."""

    def lines(texts: dict[str, bytes]) -> set[bytes]:
        found: set[bytes] = set()
        for key, text in texts.items():
            if key.startswith("d"):
                found.update(line for line in text.split(b"\n") if line)
        return found

    before, after = lines(change.old), lines(change.new)
    moved = before ^ after
    if not moved:
        return 0
    text = b"".join(line + b"\n" for line in moved)
    objects = {q.object for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)}

    def has(store: ox.Store, term: ox.Term) -> bool:
        found = store.quads_for_pattern(None, None, term, ox.DefaultGraph())
        return next(iter(found), None) is not None

    return sum(has(new_store, o) - has(old_store, o) for o in objects)
