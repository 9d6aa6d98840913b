"""The build as one flow: load -> validate -> publish. The CLI and the tests call these."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from publisher.dataset.load import Dataset, load_dataset, load_shapes
from publisher.dataset.publish import BuildInfo, publish
from publisher.dataset.validate import Report, validate_dataset
from publisher.dist import cache_root
from publisher.errors import ValidationFailed
from publisher.progress import SILENT, Progress
from publisher.settings import Settings


@dataclass
class Loaded:
    dataset: Dataset
    shapes: list


def load(settings: Settings, *, progress: Progress = SILENT) -> Loaded:
    with progress.step("loading", total=None) as advance:
        dataset = load_dataset(
            base=settings.base_uri,
            ontology_dir=Path(settings.ontology_dir) if settings.ontology_dir else None,
            data_dir=Path(settings.data_dir),
            progress=advance,
        )
    shapes_dir = Path(settings.shapes_dir) if settings.shapes_dir else None
    shapes = load_shapes(shapes_dir, base=settings.base_uri) if shapes_dir else []
    return Loaded(dataset=dataset, shapes=shapes)


def validate(
    settings: Settings,
    loaded: Loaded | None = None,
    *,
    progress: Progress = SILENT,
    changed_files: Collection[Path] | None = None,
) -> Report:
    """`changed_files`: the files added, edited or deleted since the last validation with the
    same cache (see validate_dataset); None validates as if nothing were known."""
    loaded = loaded or load(settings, progress=progress)
    shared_graphs = settings.shared_graphs.split()
    shared = {settings.base_uri + graph for graph in shared_graphs}
    documents = len(set(loaded.dataset.graph_files) - shared)
    with progress.step("validating", total=documents) as advance:
        return validate_dataset(
            loaded.dataset,
            loaded.shapes,
            shared_graphs=shared_graphs,
            root=Path.cwd(),
            engine=settings.validation_engine,
            workers=settings.validation_workers,
            cache_dir=cache_root(settings.dist_dir, settings.cache_dir),
            progress=advance,
            changed_files=changed_files,
        )


def build_dataset(
    settings: Settings, *, check: bool = True, progress: Progress = SILENT
) -> tuple[BuildInfo, Report | None]:
    """Build dist/; raise ValidationFailed (dist/ untouched) when the data breaks the shapes.
    `progress` draws bars for the long steps (build_progress() on a terminal)."""
    loaded = load(settings, progress=progress)
    report = None
    if check and loaded.shapes:
        report = validate(settings, loaded, progress=progress)
        if not report.conforms:
            raise ValidationFailed(report.text(), findings=report.findings)
    info = publish(
        loaded.dataset,
        shapes=loaded.shapes,
        out=Path(settings.dist_dir),
        settings=settings,
        progress=progress,
    )
    return info, report
