"""The Dagster code location: assembles assets, checks, jobs, sensors and resources."""

from dagster import Definitions, in_process_executor

from orchestration.identity.assets import identity_assets
from orchestration.ingest.assets import raw_assets
from orchestration.ingest.jobs import ingest_job
from orchestration.ingest.sensors import landing_zone_sensor
from orchestration.resources import dbt_resource, warehouse_resource
from orchestration.transform.assets import dbt_models
from orchestration.transform.jobs import build_warehouse_job

defs = Definitions(
    assets=[*raw_assets, dbt_models, *identity_assets],
    jobs=[ingest_job, build_warehouse_job],
    sensors=[landing_zone_sensor],
    resources={"warehouse": warehouse_resource(), "dbt": dbt_resource()},
    # DuckDB allows one writing process: every step of a run executes in the run's process.
    executor=in_process_executor,
)
