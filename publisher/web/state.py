"""What the web tier computes once per process from dist/: store, build identity, description."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app

from publisher.build.publish import BuildInfo
from publisher.settings import Settings
from publisher.store.base import Store


@dataclass
class Published:
    settings: Settings
    dist: Path
    info: BuildInfo
    store: Store
    extras: dict[str, Any] = field(default_factory=dict)  # per-blueprint caches

    @property
    def base(self) -> str:
        return self.settings.base_uri

    @property
    def etag(self) -> str:
        return self.info.build_id

    @property
    def last_modified(self) -> datetime:
        return datetime.fromisoformat(self.info.built_at.replace("Z", "+00:00"))


def open_published(settings: Settings) -> Published:
    from publisher.store.embedded import EmbeddedStore

    dist = Path(settings.dist_dir).resolve()
    info = BuildInfo.read(dist)
    if str(settings.store).startswith(("http://", "https://")):
        from publisher.store.remote import RemoteStore

        store: Store = RemoteStore(settings.store, base=info.base)
    else:
        store = EmbeddedStore.open(dist, base=info.base, mode=settings.store)
    # The data was minted under the base it was built with; serve that one.
    settings = settings.replace(base_uri=info.base)
    return Published(settings=settings, dist=dist, info=info, store=store)


def published() -> Published:
    return current_app.extensions["publisher"]
