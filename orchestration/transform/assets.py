"""Every dbt model, seed and test as Dagster assets and asset checks."""

from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetSpec, Config
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.privacy.assets import ERASURE
from orchestration.transform.partial_parse import ensure_partial_parse
from orchestration.transform.project import dbt_project

# dbt sources written by the ingest and erasure steps, not by any asset of their own.
LOADED_SOURCES = ("raw", "audit")


class WarehouseTranslator(DagsterDbtTranslator):
    """Models reading the raw or audit layer wait for the erasure step, which runs after every
    raw load and edits raw and the load log in place: without the dependency, a nightly run
    could build data_accuracy_daily from the load log before the night's files were loaded.

    Seeds wait for it too, though they read nothing: otherwise Dagster runs them first, in a
    dbt invocation of their own, and every dbt invocation costs seconds of startup."""

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id, {})
        if node.get("resource_type") == "seed" or (
            node.get("resource_type") == "model" and _reads_loaded_source(manifest, node)
        ):
            spec = spec.merge_attributes(deps=[ERASURE])
        return spec


def _reads_loaded_source(manifest: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    sources = manifest.get("sources", {})
    return any(
        sources[dep]["source_name"] in LOADED_SOURCES
        for dep in node.get("depends_on", {}).get("nodes", [])
        if dep in sources
    )


translator = WarehouseTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


class DbtBuildConfig(Config):
    """Launchpad option: rebuild the incremental models from scratch instead of catching up."""

    full_refresh: bool = False


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=translator)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
    if ensure_partial_parse(dbt_project.project_dir, dbt.dbt_executable):
        context.log.info("Parsed the dbt project for this warehouse; later steps reuse the parse")
    args = ["build", "--full-refresh"] if config.full_refresh else ["build"]
    # Unit tests check the SQL on fixed inputs, so a production build gains nothing from running
    # them (dbt advises leaving them to development and CI): the test suite runs every one on a
    # built warehouse (tests/customers), which those of an incremental batch need anyway.
    args += ["--exclude-resource-type", "unit_test"]
    yield from dbt.cli(args, context=context).stream()
