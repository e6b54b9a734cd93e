"""The nightly run: yesterday's export day loaded, everything rebuilt, checked and published."""

from dagster import (
    AssetSelection,
    Backoff,
    RetryPolicy,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from orchestration.ingest.partitions import export_day_partitions

nightly_job = define_asset_job(
    "nightly",
    selection=AssetSelection.all(),
    partitions_def=export_day_partitions,
    description="Load the export day, build staging, identity and marts, run every check, and "
    "publish the warehouse only if all of it succeeded.",
    # Transient failures (a file still being written, a locked file) get two more tries.
    op_retry_policy=RetryPolicy(max_retries=2, delay=60, backoff=Backoff.EXPONENTIAL),
    tags={"dagster/max_retries": "1"},
)

# 02:00 Asia/Shanghai (the partitions' timezone), for the export day that just ended.
nightly_schedule = build_schedule_from_partitioned_job(
    nightly_job, hour_of_day=2, minute_of_hour=0, name="nightly_schedule"
)
