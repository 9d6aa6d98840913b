"""A small thread-safe LRU of rendered representations, one per process and build.

A build's data never changes, so a rendered description can be reused until it is evicted.
The cache belongs to the published build it was filled from: when a process switches to a new
build (live, without a restart), it starts with that build's own, empty cache. The server runs several
requests at once in each process, hence the lock. It is bounded both in entries and in bytes:
a few large pages (a graph page can be megabytes) must not grow a process without limit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publisher.web.state import ServedBuild


class LRU:
    def __init__(self, capacity: int, *, max_bytes: int | None = None) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0  # the sum of the cached bodies' sizes

    def __len__(self) -> int:
        return len(self._items)

    def get_or_make(self, key: Hashable, make: Callable[[], bytes]) -> bytes:
        if self.capacity <= 0 or self.max_bytes == 0:
            return make()
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        value = make()  # outside the lock: two threads may render the same thing once each
        if self.max_bytes is not None and len(value) > self.max_bytes:
            return value  # larger than the whole cache: serve it, keep nothing
        with self._lock:
            previous = self._items.pop(key, None)
            if previous is not None:
                self.bytes -= len(previous)
            self._items[key] = value
            self.bytes += len(value)
            while len(self._items) > self.capacity or (
                self.max_bytes is not None and self.bytes > self.max_bytes
            ):
                _, dropped = self._items.popitem(last=False)
                self.bytes -= len(dropped)
        return value


def rendered_cache(state: ServedBuild, name: str) -> LRU:
    """The build's LRU of rendered bodies called `name`, one per process, bounded by the
    settings resource_cache_entries and page_cache_max_bytes."""
    settings = state.settings
    return state.memo(
        name,
        lambda: LRU(
            int(settings.resource_cache_entries), max_bytes=int(settings.page_cache_max_bytes)
        ),
    )
