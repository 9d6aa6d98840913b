"""publisher.dataset.resumable_sha256: a SHA-256 state saved and resumed gives hashlib's digest."""

from __future__ import annotations

import hashlib
import random

import pytest

from publisher.dataset import resumable_sha256
from publisher.dataset.resumable_sha256 import Sha256

TEXT = "Xocalı — Ходжалы, 25–26 February 1992\n".encode()


def test_it_works_on_this_machine() -> None:
    # libcrypto is what Python's own hashlib is linked with: present wherever the tests run.
    assert resumable_sha256.available()


def test_a_state_resumed_anywhere_gives_hashlibs_digest() -> None:
    chooser = random.Random(1992)
    data = bytes(chooser.randrange(256) for _ in range(10_000)) + TEXT * 500
    for _ in range(50):
        cut = sorted(chooser.randrange(len(data) + 1) for _ in range(3))
        parts = [data[: cut[0]], data[cut[0] : cut[1]], data[cut[1] : cut[2]], data[cut[2] :]]
        hashed = Sha256()
        for part in parts:
            hashed = Sha256(hashed.state())  # saved and resumed between every part
            hashed.update(part)
        assert hashed.hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_digest_leaves_the_hash_going() -> None:
    hashed = Sha256()
    hashed.update(TEXT)
    assert hashed.hexdigest() == hashlib.sha256(TEXT).hexdigest()
    hashed.update(TEXT)
    assert hashed.hexdigest() == hashlib.sha256(TEXT + TEXT).hexdigest()
    assert Sha256().hexdigest() == hashlib.sha256(b"").hexdigest()


def test_a_state_of_another_size_is_refused() -> None:
    with pytest.raises(ValueError, match="112"):
        Sha256(b"\0" * 7)


def test_a_slice_of_a_reused_buffer_is_hashed_as_its_bytes() -> None:
    buffer = bytearray(TEXT * 40)
    for length in (0, 1, len(TEXT), len(buffer) - 3):
        view = memoryview(buffer)[:length]
        hashed = Sha256()
        hashed.update(view)
        view.release()
        assert hashed.hexdigest() == hashlib.sha256(bytes(buffer[:length])).hexdigest()
    buffer.extend(b"1992")  # no view of it is left behind


def test_bytes_at_an_address_in_a_mapped_file(tmp_path) -> None:
    """How the dumps hash a piece's decoded bytes: at their address in the file's mapping."""
    import ctypes
    import mmap

    path = tmp_path / "piece"
    path.write_bytes(b"offsets\n" + TEXT * 300)
    with path.open("rb") as stream:
        mapping = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_COPY)
    anchor = ctypes.c_char.from_buffer(mapping)
    hashed = Sha256()
    hashed.update(b"header")
    hashed.update_at(ctypes.addressof(anchor) + 8, len(TEXT) * 300)
    hashed.update_at(ctypes.addressof(anchor), 0)  # nothing
    assert hashed.hexdigest() == hashlib.sha256(b"header" + TEXT * 300).hexdigest()
    del anchor
    mapping.close()
