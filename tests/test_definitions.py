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


def test_jobs_and_sensors():
    assert defs.resolve_job_def("ingest_landing").partitions_def is not None
    assert defs.resolve_job_def("build_warehouse") is not None
    assert defs.resolve_sensor_def("landing_zone_sensor") is not None
