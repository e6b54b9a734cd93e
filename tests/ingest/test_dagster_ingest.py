"""Raw assets, their blocking check and the landing sensor through Dagster's own test harness."""

from __future__ import annotations

import json

import duckdb
from dagster import DagsterInstance, build_sensor_context, materialize
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.ingest.assets import raw_assets
from orchestration.ingest.sensors import changed_partitions, landing_zone_sensor
from tests.ingest.conftest import receipts, write

GOOD = "R{n},S0001,2026-01-02 10:00:00,M00000001,13800138000,张三,G1,,,100.00,5.00"


def _assets(*names):
    return [a for a in raw_assets if a.key.path[-1] in names]


def _materialize(landing, warehouse, monkeypatch, partition_key, *names):
    monkeypatch.setattr(settings, "LANDING_PATH", landing)
    return materialize(
        _assets(*names),
        partition_key=partition_key,
        resources={"warehouse": DuckDBResource(database=str(warehouse))},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_partition_materialises_with_metadata_and_passing_check(tmp_path, landing, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    write(
        landing,
        "pos_receipts",
        "2026-01-02",
        "r.csv",
        receipts(*(GOOD.format(n=n) for n in range(60))),
    )
    assert _materialize(landing, warehouse, monkeypatch, "2026-01-01", "stores").success
    result = _materialize(landing, warehouse, monkeypatch, "2026-01-02", "pos_receipts")
    assert result.success
    [mat] = result.asset_materializations_for_node("raw__pos_receipts")
    assert mat.partition == "2026-01-02"
    assert mat.metadata["rows_loaded"].value == 60
    [check] = result.get_asset_check_evaluations()
    assert check.passed


def test_partition_below_98_percent_fails_its_blocking_check(tmp_path, landing, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    bad = [f"X{n},S9999,2026-01-02 10:00:00,,,,,,,1,0" for n in range(50)]
    rows = [GOOD.format(n=n) for n in range(950)] + bad  # 95% valid of 1,000
    write(landing, "pos_receipts", "2026-01-02", "r.csv", receipts(*rows))
    _materialize(landing, warehouse, monkeypatch, "2026-01-01", "stores")
    result = _materialize(landing, warehouse, monkeypatch, "2026-01-02", "pos_receipts")
    assert not result.success
    [check] = result.get_asset_check_evaluations()
    assert not check.passed
    assert "pos_receipts 2026-01-02" in check.description
    assert "unknown_reference:store_id" in check.description
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM audit.quarantine").fetchone() == (50,)


def test_sensor_requests_changed_days_once(tmp_path, landing, monkeypatch):
    monkeypatch.setattr(settings, "LANDING_PATH", landing)
    write(landing, "pos_receipts", "2026-01-02", "r.csv", receipts(GOOD.format(n=1)))
    first = landing_zone_sensor(build_sensor_context(instance=DagsterInstance.ephemeral()))
    by_day = {r.partition_key: r for r in first.run_requests}
    assert set(by_day) == {"2026-01-01", "2026-01-02"}
    assert [k.path for k in by_day["2026-01-02"].asset_selection] == [["raw", "pos_receipts"]]

    again = landing_zone_sensor(
        build_sensor_context(cursor=first.cursor, instance=DagsterInstance.ephemeral())
    )
    assert again.run_requests == []

    write(landing, "pos_receipts", "2026-01-02", "r2.csv", receipts(GOOD.format(n=2)))
    third = landing_zone_sensor(
        build_sensor_context(cursor=first.cursor, instance=DagsterInstance.ephemeral())
    )
    assert [r.partition_key for r in third.run_requests] == ["2026-01-02"]


def test_changed_partitions_ignores_days_outside_the_partitions(landing):
    write(landing, "stores", "1999-01-01", "old.csv", "x")
    changed, cursor = changed_partitions(landing, {}, valid_days={"2026-01-01"})
    assert changed == {"2026-01-01": ["stores"]}
    assert json.dumps(cursor)  # serialisable as a sensor cursor
