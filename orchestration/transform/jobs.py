"""Jobs over everything downstream of the raw layer."""

from dagster import AssetSelection, define_asset_job

build_warehouse_job = define_asset_job(
    "build_warehouse",
    selection=AssetSelection.all() - AssetSelection.groups("raw"),
    description="Build staging, identity, marts and checks from the raw layer.",
)
