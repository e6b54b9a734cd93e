"""The code location loads and holds the assets, checks, jobs and sensors users expect."""

from dagster import AssetKey

from orchestration.definitions import defs
from orchestration.ingest.contracts import SOURCES


def test_every_source_has_a_partitioned_raw_asset_with_a_blocking_check():
    graph = defs.resolve_asset_graph()
    for source in SOURCES:
        key = AssetKey(["raw", source.name])
        assert graph.get(key).partitions_def is not None
        [check] = [c for c in graph.asset_check_keys if c.asset_key == key]
        assert graph.get_check_spec(check).blocking


def test_dbt_staging_models_read_the_raw_assets():
    graph = defs.resolve_asset_graph()
    staging = [k for k in graph.get_all_asset_keys() if k.path[-1].startswith("stg_")]
    assert staging, "dbt staging models are missing from the code location"
    parents = {p for k in staging for p in graph.get(k).parent_keys}
    assert {AssetKey(["raw", s.name]) for s in SOURCES} <= parents


def test_models_reading_the_load_log_wait_for_every_load_and_the_erasure():
    """In the nightly job the raw loads, the erasure and dbt share one run: a model built from
    audit.load_log must not run before the night's files are logged."""
    graph = defs.resolve_asset_graph()
    accuracy = AssetKey(["marts", "data_accuracy_daily"])
    ancestors = graph.get(accuracy).parent_keys
    assert AssetKey(["privacy", "erasure"]) in ancestors
    erasure_parents = graph.get(AssetKey(["privacy", "erasure"])).parent_keys
    assert {AssetKey(["raw", s.name]) for s in SOURCES} <= erasure_parents


def test_jobs_and_sensors():
    assert defs.resolve_job_def("ingest_landing").partitions_def is not None
    assert defs.resolve_job_def("build_warehouse") is not None
    assert defs.resolve_sensor_def("landing_zone_sensor") is not None


def test_nightly_schedule_runs_at_two_shanghai_time_for_the_day_that_ended():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from dagster import DagsterInstance, build_schedule_context

    schedule = defs.resolve_schedule_def("nightly_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Asia/Shanghai")
    tick = datetime(2026, 3, 2, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    context = build_schedule_context(
        instance=DagsterInstance.ephemeral(), scheduled_execution_time=tick
    )
    [request] = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-03-01"
    assert schedule.job_name == "nightly"


def test_nightly_job_ends_in_publishing_and_retries_transient_failures():
    graph = defs.resolve_asset_graph()
    published = AssetKey(["published_warehouse"])
    assert graph.get(published).parent_keys  # publishes only after what it depends on
    job = defs.resolve_job_def("nightly")
    assert job.partitions_def is not None
    assert job.op_retry_policy.max_retries == 2


def test_every_job_has_an_acyclic_execution_plan():
    """dbt runs in several steps around Python assets and checks: no step may wait on itself."""
    from dagster._core.execution.api import create_execution_plan

    for name in ("ingest_landing", "build_warehouse", "nightly"):
        assert create_execution_plan(defs.resolve_job_def(name)).step_keys_to_execute


def test_full_refresh_is_valid_config_for_every_incremental_step():
    from dagster import validate_run_config

    from orchestration.run_pipeline import full_refresh_config

    for name in ("build_warehouse", "nightly"):
        job = defs.resolve_job_def(name)
        config = full_refresh_config(job)
        assert "identity__identifier_canonical_forms" in config["ops"]
        assert "privacy__erasure" in config["ops"]
        assert "predictions__markov_channel_attribution" in config["ops"]
        assert sum(op.startswith("dbt_models") for op in config["ops"]) >= 1
        validate_run_config(job, config)


def test_dbt_runs_once_between_each_pair_of_python_steps():
    """Each dbt invocation costs seconds of startup, so the nightly plan holds one dbt step per
    stretch of models between Python assets: staging with the seeds, the identity inputs (before
    canonical forms and the identity map), the models reading the identity map (before CLV and
    Markov), and the models reading the predictions."""
    from dagster._core.execution.api import create_execution_plan

    graph = defs.resolve_asset_graph()
    for seed in ("channels", "identity_types", "identity_blocklist", "kpi_targets"):
        assert (
            AssetKey(["privacy", "erasure"]) in graph.get(AssetKey(["reference", seed])).parent_keys
        )
    plan = create_execution_plan(defs.resolve_job_def("nightly"))
    dbt_steps = [k for k in plan.step_keys_to_execute if k.startswith("dbt_models")]
    assert len(dbt_steps) == 4


def test_dbt_resource_version_is_what_the_dbt_executable_reports():
    """The resource reads dbt-core's version from the package instead of running dbt for it."""
    import re
    import subprocess

    from orchestration.resources import dbt_resource

    resource = dbt_resource()
    printed = subprocess.check_output([resource.dbt_executable, "--version"], text=True)
    assert f"installed: {resource._cli_version}" in re.sub(r"\s+", " ", printed)
