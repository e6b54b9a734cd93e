"""Jobs over the raw layer."""

from dagster import AssetSelection, define_asset_job

from orchestration.ingest.partitions import export_day_partitions

ingest_job = define_asset_job(
    "ingest_landing",
    selection=AssetSelection.groups("raw"),
    partitions_def=export_day_partitions,
    description="Load export days from the landing zone into the raw layer, under contract.",
)
