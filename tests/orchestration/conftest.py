"""Fixtures of the orchestration tests: the Dagster definitions, loaded once under the pinned settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def definitions(test_environment):
    """``dagster_project.definitions.defs``, imported after the test settings are in place (the dbt
    manifest is parsed into the test data folder on first use)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from dagster_project.definitions import defs

    return defs


@pytest.fixture(scope="session")
def asset_graph(definitions):
    return definitions.resolve_asset_graph()


@pytest.fixture(scope="session")
def manifest(definitions) -> dict:
    """The dbt manifest the dbt assets were built from (the independent side of the lineage checks)."""
    from dagster_project.assets import manifest_path

    return json.loads(Path(manifest_path()).read_text())


@pytest.fixture
def app_database(tmp_path, monkeypatch):
    """A fresh app database (where the API queues webhook events) for one test, used by this process."""
    from scc.config import reset_settings_cache

    monkeypatch.setenv("SCC_APP_DATABASE_URL", f"sqlite:///{tmp_path / 'app.sqlite'}")
    reset_settings_cache()
    from api.db import get_database

    yield get_database()
    monkeypatch.delenv("SCC_APP_DATABASE_URL")
    reset_settings_cache()
