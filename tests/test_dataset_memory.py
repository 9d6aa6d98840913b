"""publisher.dataset.memory: what a build frees goes back to the system between phases."""

from __future__ import annotations

import ctypes.util
import sys

import pytest

from publisher.dataset.memory import release_freed_memory


def resident_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or "libc.so" not in (ctypes.util.find_library("c") or ""),
    reason="malloc_trim is glibc's (release_freed_memory does nothing elsewhere)",
)


@glibc
def test_freed_blocks_below_a_live_one_go_back_to_the_system() -> None:
    # Blocks of 2 KB come from malloc's heap (not Python's small-object arenas, not mmap);
    # one block allocated after them keeps the heap's top in use, so free() alone cannot
    # shrink the heap: the freed pages stay resident until they are trimmed.
    blocks = [bytes([n % 251]) * 2048 for n in range(100_000)]  # about 200 MB
    pin = bytes(2048)
    del blocks
    before = resident_mb()
    assert release_freed_memory() is True
    after = resident_mb()
    assert before - after > 100, (before, after)
    assert len(pin) == 2048


def test_it_is_harmless_to_call_when_nothing_was_freed() -> None:
    release_freed_memory()
    assert release_freed_memory() in (True, False)
