"""Stores behind one interface (base.Store): embedded Oxigraph or a remote SPARQL endpoint.

`open_store` is the one place that reads the `store` setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publisher.settings import Settings
    from publisher.store.base import Store


def open_store(settings: Settings, dist: Path) -> Store:
    """The setting `store`: `disk` (dist/store), `memory` (the dump) or a SPARQL endpoint URL.

    Imports lazily: the CLI's `load` needs neither, and the query worker imports store modules.
    """
    if str(settings.store).startswith(("http://", "https://")):
        from publisher.store.remote import RemoteStore

        return RemoteStore(
            settings.store, base=settings.base_uri, union_graph=settings.store_union_graph
        )
    from publisher.store.embedded import EmbeddedStore

    return EmbeddedStore.open(dist, settings=settings)
