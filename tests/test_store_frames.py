"""publisher.store.frames: length-prefixed JSON header + byte body over a pipe."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator

import pytest

from publisher.store.frames import FrameTimeout, read_frame, write_frame


@pytest.fixture()
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    for fd in (read_end, write_end):
        with contextlib.suppress(OSError):  # a test may have closed it
            os.close(fd)


def test_round_trip(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    write_frame(write_end, {"ok": True, "message": "Xocalı"}, b"\x00body")
    write_frame(write_end, {"empty": []})
    assert read_frame(read_end) == ({"ok": True, "message": "Xocalı"}, b"\x00body")
    assert read_frame(read_end) == ({"empty": []}, b"")


def test_a_body_larger_than_the_pipe_buffer(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    body = os.urandom(3 << 20)  # the writer blocks until the reader drains the pipe
    writer = threading.Thread(target=write_frame, args=(write_end, {"n": 1}, body))
    writer.start()
    assert read_frame(read_end, deadline=time.monotonic() + 60) == ({"n": 1}, body)
    writer.join()


def test_the_other_side_gone_is_eof(pipe: tuple[int, int]) -> None:
    read_end, write_end = pipe
    os.write(write_end, b"\x00\x00")  # part of a prefix, then the writer ends
    os.close(write_end)
    with pytest.raises(EOFError):
        read_frame(read_end)


def test_nothing_by_the_deadline_is_a_timeout(pipe: tuple[int, int]) -> None:
    read_end, _ = pipe
    with pytest.raises(FrameTimeout):
        read_frame(read_end, deadline=time.monotonic() + 0.05)
