"""The dbt project, made once. The manifest is built by `make`/CI (or lazily in dev), never here."""

from dagster_dbt import DbtProject

from orchestration import settings

dbt_project = DbtProject(
    project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR
)
