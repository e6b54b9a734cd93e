"""dbt reuses its parse across a run's steps when the partial-parse state matches the run's
warehouse path, and reparses once when the path changes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration import settings
from orchestration.transform.partial_parse import (
    PARTIAL_PARSE_FILE,
    ensure_partial_parse,
    is_current,
    profile_environment,
)

DBT = str(Path(sys.executable).with_name("dbt"))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "dbt_project"
    shutil.copytree(settings.DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


def reparse_reasons(project: Path, warehouse: Path) -> list[str]:
    """What dbt says about partial parsing when an invocation starts from the project's state,
    as a Dagster step does (its own target folder holding a copy of the state)."""
    step_target = project / "target" / "step"
    step_target.mkdir()
    shutil.copy(project / "target" / PARTIAL_PARSE_FILE, step_target / PARTIAL_PARSE_FILE)
    result = subprocess.run(
        [DBT, "--log-format", "json", "--log-level", "debug", "ls", "--target-path", "target/step"],
        cwd=project,
        env={**_env(warehouse), "DBT_PROFILES_DIR": str(project)},
        capture_output=True,
        text=True,
        check=True,
    )
    shutil.rmtree(step_target)
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return [e["info"]["msg"] for e in events if e["info"]["name"] == "UnableToPartialParse"]


def _env(warehouse: Path) -> dict[str, str]:
    return {**os.environ, "WAREHOUSE_PATH": str(warehouse)}


def test_profile_environment_names_the_variables_profiles_yml_reads(project, monkeypatch):
    monkeypatch.setenv("WAREHOUSE_PATH", "/somewhere/warehouse.duckdb")
    environment = profile_environment(project)
    assert environment["WAREHOUSE_PATH"] == "/somewhere/warehouse.duckdb"
    assert "DUCKDB_MEMORY_LIMIT" in environment


def test_a_run_parses_once_per_warehouse_and_its_steps_then_skip_the_parse(
    project, tmp_path, monkeypatch
):
    first, second = tmp_path / "first.duckdb", tmp_path / "second.duckdb"
    monkeypatch.setenv("WAREHOUSE_PATH", str(first))
    assert ensure_partial_parse(project, DBT) is True
    assert is_current(project)
    assert ensure_partial_parse(project, DBT) is False
    assert reparse_reasons(project, first) == []
    # A step against another warehouse would reparse, until the state is made for it.
    assert reparse_reasons(project, second) == [
        "Unable to do partial parsing because profile has changed"
    ]
    monkeypatch.setenv("WAREHOUSE_PATH", str(second))
    assert not is_current(project)
    assert ensure_partial_parse(project, DBT) is True
    assert reparse_reasons(project, second) == []
    # A state written by someone else (`make manifest`, with other settings) is not trusted.
    state = project / "target" / PARTIAL_PARSE_FILE
    state.write_bytes(state.read_bytes())
    assert not is_current(project)
