"""One price: the deviations listed and the consistency metric against the injected price drift."""

from __future__ import annotations

import duckdb
import pytest


@pytest.fixture(scope="module")
def db(small_world):
    conn = duckdb.connect(str(small_world.warehouse), read_only=True)
    conn.execute(
        "create temp view truth_drift as select * from "
        f"read_parquet('{small_world.truth / 'price_drift.parquet'}')"
    )
    yield conn
    conn.close()


def test_price_deviations_are_exactly_the_injected_drift(db):
    truth = set(
        db.execute(
            """
            select sku_id, channel, cast(from_date as date), drifted_price <> standard_price,
                title_drift
            from truth_drift
            """
        ).fetchall()
    )
    listed = set(
        db.execute(
            """
            select sku_id, channel, first_deviation_date, has_price_deviation,
                has_title_deviation
            from marts.price_deviations
            """
        ).fetchall()
    )
    assert truth, "the world injected no drift"
    assert listed == truth
    # a drift lasts to the end of the world: one run per (sku, channel), up to the last price day
    assert db.execute(
        """
        select count(*) from marts.price_deviations
        where last_deviation_date <> (select max(price_date) from marts.fct_channel_prices_daily)
        """
    ).fetchone() == (0,)
    wrong_price = db.execute(
        """
        select d.sku_id, d.channel from marts.price_deviations d
        inner join truth_drift t on d.sku_id = t.sku_id and d.channel = t.channel
        where d.latest_channel_price_cny <> t.drifted_price
            or d.standard_price_cny <> t.standard_price
        """
    ).fetchall()
    assert wrong_price == []


def test_brand_consistency_counts_skus_with_any_drift_as_inconsistent(db):
    # every SKU is listed in all five channels every day, so each day all are active; a SKU is
    # inconsistent from the first day one of its channels drifts
    diffs = db.execute(
        """
        with days as (select distinct price_date from marts.fct_channel_prices_daily),
        skus as (select count(*) as n from marts.dim_products),
        drifting as (
            select days.price_date, count(distinct truth_drift.sku_id) as n
            from days
            left join truth_drift on cast(truth_drift.from_date as date) <= days.price_date
            group by days.price_date
        )
        select b.price_date, b.active_sku_count, b.consistent_sku_count, skus.n, drifting.n
        from marts.brand_consistency_daily b
        inner join drifting on b.price_date = drifting.price_date
        cross join skus
        where b.active_sku_count <> skus.n or b.consistent_sku_count <> skus.n - drifting.n
        """
    ).fetchall()
    assert diffs == []
    first_day, last_day = db.execute(
        "select min(consistency_rate), max(consistency_rate) from marts.brand_consistency_daily"
    ).fetchone()
    assert 0 < first_day <= last_day <= 1
