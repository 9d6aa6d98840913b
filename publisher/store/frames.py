"""Length-prefixed messages over pipes between the web process and its query workers.

A frame is a JSON header and a byte body: ``>IQ`` (header length, body length), header, body.
The body carries the serialized results, so the web process copies bytes and parses nothing.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any

_PREFIX = struct.Struct(">IQ")


class FrameTimeout(Exception):
    """The deadline passed before a whole frame arrived."""


def write_frame(fd: int, header: dict[str, Any], body: bytes = b"") -> None:
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    data = memoryview(_PREFIX.pack(len(encoded), len(body)) + encoded + body)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def read_frame(fd: int, *, deadline: float | None = None) -> tuple[dict[str, Any], bytes]:
    """Read one frame; EOFError when the other side is gone, FrameTimeout at the deadline."""
    prefix = _read_exactly(fd, _PREFIX.size, deadline)
    header_length, body_length = _PREFIX.unpack(prefix)
    header = json.loads(_read_exactly(fd, header_length, deadline))
    return header, _read_exactly(fd, body_length, deadline)


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise FrameTimeout
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
