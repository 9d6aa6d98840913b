"""Settings: declared once, layered defaults -> environment -> overrides, all in the README."""

from __future__ import annotations

import pytest
from support import ROOT

from publisher.settings import SETTINGS, describe_setting, load_settings, settings_table_markdown


def test_layering_defaults_environment_overrides() -> None:
    assert load_settings(environ={}).sparql_time_limit_ms == 10_000
    env = {"PUBLISHER_SPARQL_TIME_LIMIT_MS": "1500", "PUBLISHER_BASE_URI": "https://x.example"}
    from_env = load_settings(environ=env)
    assert from_env.sparql_time_limit_ms == 1500  # coerced to the default's type
    assert from_env.base_uri == "https://x.example/"  # a base always ends with a slash
    overridden = load_settings({"sparql_time_limit_ms": 99}, environ=env)
    assert overridden.sparql_time_limit_ms == 99
    assert load_settings({"port": None}, environ={}).port == 8080  # None means "not given"


def test_unknown_setting_is_refused_with_the_known_names() -> None:
    with pytest.raises(KeyError, match="sparql_time_limit_ms"):
        load_settings({"sparql_timeout": 1}, environ={})


def test_every_setting_has_help_and_unit_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert setting.help and setting.unit, setting.name
    assert settings_table_markdown() in readme, "README settings table is stale: regenerate it"
    assert (
        describe_setting("sparql_max_rows")
        == "sparql_max_rows (env PUBLISHER_SPARQL_MAX_ROWS, rows)"
    )
