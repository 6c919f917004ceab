"""`scc build` as a user runs it: a summary, and the exit code says whether it worked."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def _scc(*args: str, **env) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "scc", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "COLUMNS": "120", **env})


def test_scc_build_prints_a_summary_and_exits_zero(marts_built):
    result = _scc("build", "--select", "dim_sales_reps")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dbt build on duckdb: passed" in result.stdout
    assert "models built" in result.stdout and "tests passed" in result.stdout


def test_scc_build_fails_clearly(marts_built):
    result = _scc("build", "--target", "postgres")
    assert result.returncode == 1 and "SCC_WAREHOUSE_URL" in result.stdout, result.stdout
    result = _scc("build", "--target", "oracle")
    assert result.returncode == 2 and "Unknown target" in result.stdout, result.stdout
    # A warehouse that cannot be reached: the build fails, says so, and exits non-zero.
    result = _scc("build", SCC_WAREHOUSE_URL="postgresql://scc:scc@127.0.0.1:9/none")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "failed" in result.stdout.lower() or "error" in result.stdout.lower(), result.stdout
