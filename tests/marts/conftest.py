"""Fixtures of the marts tests: the warehouse loaded from the emulators and the marts built once."""

from __future__ import annotations

import pytest


def sync_all() -> None:
    from pipelines.run import sync

    for source in ("salesforce", "netsuite"):
        sync(source)


def build_or_fail(**kwargs):
    from scc.marts import build

    summary = build(**kwargs)
    failed = [f"{r.name}: {r.status}: {r.message[:1500]}" for r in summary.results if r.status not in ("pass", "success")]
    assert summary.success, "\n".join(failed) or summary.as_dict()
    return summary


@pytest.fixture(scope="session")
def marts_built(emulators):
    """The DuckDB warehouse synced from the emulators and `dbt build` run on it (once per session)."""
    sync_all()
    summary = build_or_fail()
    return summary
