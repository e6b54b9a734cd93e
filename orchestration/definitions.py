"""The Dagster code location: assembles assets, checks, jobs, schedules, sensors and resources."""

from dagster import Definitions, in_process_executor

from orchestration.customers.assets import customer_assets
from orchestration.identity.assets import identity_assets
from orchestration.ingest.assets import raw_assets
from orchestration.ingest.jobs import ingest_job
from orchestration.ingest.sensors import landing_zone_sensor
from orchestration.journeys.assets import journey_assets
from orchestration.privacy.assets import erasure
from orchestration.publish.assets import build_publish_asset
from orchestration.quality.checks import quality_checks
from orchestration.reports.assets import report_assets
from orchestration.resources import dbt_resource, warehouse_resource
from orchestration.schedules.nightly import nightly_job, nightly_schedule
from orchestration.transform.assets import dbt_models
from orchestration.transform.jobs import build_warehouse_job

built_assets = [
    erasure,
    dbt_models,
    *identity_assets,
    *customer_assets,
    *journey_assets,
    *report_assets,
]
published_warehouse = build_publish_asset([k for a in built_assets for k in a.keys])

defs = Definitions(
    assets=[*raw_assets, *built_assets, published_warehouse],
    asset_checks=quality_checks,
    jobs=[ingest_job, build_warehouse_job, nightly_job],
    schedules=[nightly_schedule],
    sensors=[landing_zone_sensor],
    resources={"warehouse": warehouse_resource(), "dbt": dbt_resource()},
    # DuckDB allows one writing process: every step of a run executes in the run's process,
    # and DAGSTER_HOME's dagster.yaml lets one run execute at a time.
    executor=in_process_executor,
)
