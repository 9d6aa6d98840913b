"""The build as one flow: load -> validate -> publish. The CLI and the tests call these."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from publisher.dataset.load import Dataset, load_dataset, load_shapes
from publisher.dataset.publish import BuildInfo, publish
from publisher.dataset.validate import Report, validate_dataset
from publisher.errors import ValidationFailed
from publisher.settings import Settings


@dataclass
class Loaded:
    dataset: Dataset
    shapes: list


def load(settings: Settings) -> Loaded:
    dataset = load_dataset(
        base=settings.base_uri,
        ontology_dir=Path(settings.ontology_dir) if settings.ontology_dir else None,
        data_dir=Path(settings.data_dir),
    )
    shapes_dir = Path(settings.shapes_dir) if settings.shapes_dir else None
    shapes = load_shapes(shapes_dir, base=settings.base_uri) if shapes_dir else []
    return Loaded(dataset=dataset, shapes=shapes)


def validate(settings: Settings, loaded: Loaded | None = None) -> Report:
    loaded = loaded or load(settings)
    return validate_dataset(
        loaded.dataset,
        loaded.shapes,
        shared_graphs=settings.shared_graphs.split(),
        root=Path.cwd(),
        engine=settings.validation_engine,
        workers=settings.validation_workers,
        cache_dir=Path(settings.cache_dir) if settings.cache_dir else None,
    )


def build_dataset(settings: Settings, *, check: bool = True) -> tuple[BuildInfo, Report | None]:
    """Build dist/; raise ValidationFailed (dist/ untouched) when the data breaks the shapes."""
    loaded = load(settings)
    report = None
    if check and loaded.shapes:
        report = validate(settings, loaded)
        if not report.conforms:
            raise ValidationFailed(report.text(), findings=report.findings)
    info = publish(
        loaded.dataset,
        shapes=loaded.shapes,
        out=Path(settings.dist_dir),
        settings=settings,
    )
    return info, report
