"""Points ledger and repurchase rate: internal consistency and an independent recount."""

from __future__ import annotations

import duckdb
import pytest


@pytest.fixture(scope="module")
def db(small_world):
    conn = duckdb.connect(str(small_world.warehouse), read_only=True)
    conn.execute(
        "create temp view truth_orders as select * from "
        f"read_parquet('{small_world.truth / 'orders.parquet'}')"
    )
    yield conn
    conn.close()


def test_points_ledger_keeps_every_loaded_transaction(db):
    raw = db.execute(
        "select count(distinct points_txn_id), sum(points) from "
        "(select distinct points_txn_id, points from raw.crm_points)"
    ).fetchone()
    ledger = db.execute(
        "select count(*), sum(points_delta) from marts.fct_points_ledger"
    ).fetchone()
    assert raw == ledger


def test_running_balance_ends_at_the_balance(db):
    bad = db.execute(
        """
        with last as (
            select member_key, member_balance_after,
                row_number() over (partition by member_key
                                   order by member_transaction_number desc) as rn
            from marts.fct_points_ledger
        ),
        total as (select member_key, sum(points_delta) as s from marts.fct_points_ledger
                  group by member_key)
        select count(*) from last inner join total using (member_key)
        where rn = 1 and member_balance_after <> s
        """
    ).fetchone()
    assert bad == (0,)
    resolved = db.execute(
        "select sum(points_delta), count(distinct customer_id) from marts.fct_points_ledger "
        "where customer_id is not null"
    ).fetchone()
    balances = db.execute(
        "select sum(points_balance), count(*) from marts.points_balances"
    ).fetchone()
    assert resolved == balances
    share_resolved = db.execute(
        "select avg(case when customer_id is not null then 1.0 else 0 end) "
        "from marts.fct_points_ledger"
    ).fetchone()[0]
    assert share_resolved > 0.9


def test_period_repurchase_rate_recounted_from_the_order_book(db):
    expected = db.execute(
        """
        with per_month as (
            select date_trunc('month', order_date_local) as m, customer_id, count(*) as n
            from marts.fct_orders where is_valid_sale and customer_id is not null
            group by 1, 2
        )
        select cast(m as date), count(*), count(*) filter (where n >= 2)
        from per_month group by 1 order by 1
        """
    ).fetchall()
    actual = db.execute(
        "select order_month, buyer_count, repeat_buyer_count from marts.repurchase_rate_monthly "
        "where buyer_count > 0 order by 1"
    ).fetchall()
    assert actual == expected
    assert (
        db.execute(
            "select sum(first_time_buyer_count) from marts.repurchase_rate_monthly"
        ).fetchone()[0]
        == db.execute(
            "select count(distinct customer_id) from marts.fct_orders "
            "where is_valid_sale and customer_id is not null"
        ).fetchone()[0]
    )
