"""Fixtures of the agents' tests.

- ``synthetic`` : a tiny mart-shaped warehouse in its own data folder (fast tests: guard, scope, LLM path,
  plugins); the session's settings are untouched.
- ``marts`` : the real thing: the session's emulators synced into the warehouse (both sources) and the
  marts built by ``scc.marts.build`` (dbt), once per session; for the question set and end-to-end tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agents import synthetic as synthetic_warehouse


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory):
    """Settings of a synthetic warehouse (see tests/agents/synthetic.py)."""
    data_dir: Path = tmp_path_factory.mktemp("agents-synthetic")
    synthetic_warehouse.build(data_dir / "warehouse.duckdb")
    return synthetic_warehouse.settings_for(data_dir)


@pytest.fixture(scope="session")
def marts(emulators):
    """The session's settings, with the warehouse synced from the emulators and the marts built."""
    from pipelines.run import sync
    from scc.config import get_settings
    from scc.marts import build

    for source in ("salesforce", "netsuite"):
        sync(source)
    summary = build()
    assert summary.success, summary.as_dict()
    from agents import catalog, entities

    catalog.clear_cache()
    entities.clear_cache()
    return get_settings()


@pytest.fixture
def scripted_llm():
    from tests.agents.llm_server import ScriptedLLM

    with ScriptedLLM() as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def release_warehouse_connections():
    """Other tests build the marts in this process: never leave them a warehouse held open."""
    yield
    from agents.guard import release_connections

    release_connections()
