"""The rendered-page cache is keyed on the languages that matter and bounded in bytes (item 18)."""

from __future__ import annotations

from pathlib import Path

from support import in_process_app

from publisher.web.cache import LRU
from publisher.web.state import served_build

MAX_BYTES = 300_000


class RenderCountingLRU(LRU):
    """The page cache, counting how often it had to render (a miss) instead of reusing."""

    renders = 0

    def get_or_make(self, key, make):
        def render() -> bytes:
            self.renders += 1
            return make()

        return super().get_or_make(key, render)


def test_thousands_of_accept_language_values_stay_within_the_byte_bound(
    sample_dist: Path,
) -> None:
    app = in_process_app(sample_dist, page_cache_max_bytes=MAX_BYTES)
    client = app.test_client()
    with app.test_request_context("/"):
        state = served_build()
        state.extras["resource_cache"] = RenderCountingLRU(
            int(state.settings.resource_cache_entries), max_bytes=MAX_BYTES
        )
    pages = ("/doc/place/khojaly", "/doc/place/azerbaijan", "/doc/event/khojaly-1992")
    for i in range(3000):
        # Distinct headers: unknown tags, regional variants, weights, the data's own languages.
        header = f"x{i}-q{i % 7}, az-{i:04d};q=0.{i % 9 + 1}, ru;q=0.1, en-x{i};q=0.05"
        response = client.get(
            pages[i % len(pages)], headers={"Accept": "text/html", "Accept-Language": header}
        )
        assert response.status_code == 200
    with app.test_request_context("/"):
        cache: RenderCountingLRU = served_build().extras["resource_cache"]
    assert cache.bytes <= MAX_BYTES
    # Keyed on the language preference that can change the page, not on the raw header.
    assert len(cache) <= 3 * 6, len(cache)
    assert 0 < cache.renders < 100, cache.renders  # the other 2900+ requests reused a page


def test_the_chosen_language_still_decides_the_label(sample_dist: Path) -> None:
    client = in_process_app(sample_dist).test_client()
    for header, label in (("az", "Xocalı"), ("ru-RU, az;q=0.5", "Ходжалы"), ("zz, fr", "Khodjaly")):
        page = client.get(
            "/doc/place/khojaly", headers={"Accept": "text/html", "Accept-Language": header}
        )
        heading = page.get_data(as_text=True).split("</h1>")[0].rsplit("<h1", 1)[-1]
        assert label in heading, (header, heading)


def test_the_lru_evicts_by_bytes() -> None:
    cache = LRU(10_000, max_bytes=10_000)
    for i in range(1000):
        cache.get_or_make(i, lambda i=i: bytes(1000 + i % 500))
        assert cache.bytes <= 10_000
    assert cache.get_or_make("huge", lambda: bytes(50_000)) == bytes(50_000)  # served, not kept
    assert cache.bytes <= 10_000 and "huge" not in cache._items
