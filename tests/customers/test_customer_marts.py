"""Customer 360 marts on the small world, checked against numbers recomputed here from fct_orders.

Set CUSTOMERS_TEST_WAREHOUSE to a warehouse already built (whole pipeline) to iterate without
building the session's small world.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml
from dagster import materialize
from dagster_duckdb import DuckDBResource
from lifetimes.utils import summary_data_from_transaction_data

from orchestration.customers.assets import CUSTOMER_CLV, SUMMARY_SQL, customer_clv, predict_clv
from orchestration.settings import DBT_PROJECT_DIR

DORMANT_AFTER_DAYS = 90  # dbt vars dormant_after_days / churned_after_days
CHURNED_AFTER_DAYS = 180
MARTS = [
    "dim_customers",
    "customer_identities",
    "customer_lifecycle_monthly",
    "customer_rfm",
    "customer_tags",
    "customer_circles",
    "fct_referrals",
    "cross_channel_identification_monthly",
]
# the small world is requested at run time (it can be overridden), so conftest cannot see it
pytestmark = pytest.mark.xdist_group("small_world")


@pytest.fixture(scope="module")
def warehouse(request) -> Path:
    override = os.environ.get("CUSTOMERS_TEST_WAREHOUSE")
    if override:
        return Path(override)
    return request.getfixturevalue("small_world").warehouse


@pytest.fixture(scope="module")
def db(warehouse):
    conn = duckdb.connect(str(warehouse), read_only=True)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def valid_orders(db) -> pd.DataFrame:
    return db.execute(
        "select o.customer_id, o.order_date_local, o.net_revenue_cny, o.sales_channel, "
        "c.is_online from marts.fct_orders o join marts.dim_channels c "
        "on o.sales_channel = c.channel where o.is_valid_sale and o.customer_id is not null"
    ).df()


def test_every_customer_once(db):
    dim = db.execute("select customer_id from marts.dim_customers").df()
    assert dim.customer_id.is_unique and len(dim) > 0
    graph = db.execute(
        "select distinct customer_id from marts.customer_identities where customer_id is not null"
    ).df()
    assert set(dim.customer_id) == set(graph.customer_id)


def test_lifetime_revenue_and_orders_match_the_order_book(db, valid_orders):
    expected = valid_orders.groupby("customer_id").agg(
        orders=("order_date_local", "size"), revenue=("net_revenue_cny", "sum")
    )
    dim = (
        db.execute(
            "select customer_id, lifetime_orders, lifetime_net_revenue_cny from marts.dim_customers"
        )
        .df()
        .set_index("customer_id")
    )
    buyers = dim[dim.lifetime_orders > 0]
    assert set(buyers.index) == set(expected.index)
    joined = buyers.join(expected)
    assert (joined.lifetime_orders == joined.orders).all()
    assert (
        joined.lifetime_net_revenue_cny.astype(float) - joined.revenue.astype(float)
    ).abs().max() < 0.01
    assert float(dim.lifetime_net_revenue_cny.sum()) == pytest.approx(
        float(valid_orders.net_revenue_cny.sum()), abs=0.01
    )


def _stage(first_purchase, last_purchase, month_start, evaluated_on) -> str:
    if last_purchase is None:
        return "prospect"
    if first_purchase >= month_start:
        return "new"
    days = (evaluated_on - last_purchase).days
    if days >= CHURNED_AFTER_DAYS:
        return "churned"
    if days >= DORMANT_AFTER_DAYS:
        return "dormant"
    return "active"


def test_lifecycle_stage_recomputed_from_purchase_dates(db, valid_orders):
    lifecycle = db.execute(
        "select customer_id, month_start, evaluated_on, lifecycle_stage "
        "from marts.customer_lifecycle_monthly"
    ).df()
    assert not lifecycle.duplicated(["customer_id", "month_start"]).any()
    dates = valid_orders.groupby("customer_id").order_date_local.apply(
        lambda s: sorted(pd.to_datetime(s).dt.date)
    )
    sample = lifecycle.sample(n=min(3000, len(lifecycle)), random_state=1)
    mismatches = []
    for row in sample.itertuples(index=False):
        month_start = pd.Timestamp(row.month_start).date()
        evaluated_on = pd.Timestamp(row.evaluated_on).date()
        bought = [d for d in dates.get(row.customer_id, []) if d <= evaluated_on]
        expected = _stage(
            bought[0] if bought else None, bought[-1] if bought else None, month_start, evaluated_on
        )
        if expected != row.lifecycle_stage:
            mismatches.append((row.customer_id, month_start, row.lifecycle_stage, expected))
    assert not mismatches, mismatches[:5]
    # every customer runs to the data's last month, without gaps
    last_month = lifecycle.month_start.max()
    assert (lifecycle.groupby("customer_id").month_start.max() == last_month).all()


def test_previous_stage_is_last_months_stage(db):
    bad = db.execute(
        "select count(*) from marts.customer_lifecycle_monthly cur "
        "join marts.customer_lifecycle_monthly prev on cur.customer_id = prev.customer_id "
        "and prev.month_start = cur.month_start - interval 1 month "
        "where cur.previous_lifecycle_stage is distinct from prev.lifecycle_stage"
    ).fetchone()[0]
    assert bad == 0


def test_rfm_covers_buyers_with_quintile_scores(db, valid_orders):
    rfm = db.execute("select * from marts.customer_rfm").df()
    assert set(rfm.customer_id) == set(valid_orders.customer_id)
    for score in ["recency_score", "frequency_score", "monetary_score"]:
        counts = rfm[score].value_counts()
        assert set(counts.index) == {1, 2, 3, 4, 5}
        assert counts.max() - counts.min() <= 1  # ntile: equal-sized quintiles
    # a more recent last purchase never scores lower on recency (ties may straddle a boundary)
    for better in range(2, 6):
        newer = rfm[rfm.recency_score == better].recency_days.max()
        assert newer <= rfm[rfm.recency_score == better - 1].recency_days.min()
        higher = rfm[rfm.monetary_score == better].monetary_cny.min()
        assert higher >= rfm[rfm.monetary_score == better - 1].monetary_cny.max()


def test_channel_tags_recomputed_from_the_order_book(db, valid_orders):
    tags = db.execute("select customer_id, tag from marts.customer_tags").df()
    assert not tags.duplicated().any()
    per_customer = valid_orders.groupby("customer_id").is_online.agg(["any", "all"])
    omnichannel = set(per_customer[per_customer["any"] & ~per_customer["all"]].index)
    assert set(tags[tags.tag == "omnichannel"].customer_id) == omnichannel
    online_only = set(tags[tags.tag == "online_only"].customer_id)
    assert online_only <= set(per_customer[per_customer["all"]].index)
    assert not online_only & omnichannel


def test_circles_follow_their_rules(db):
    circles = db.execute(
        "select c.*, d.lifetime_orders from marts.customer_circles c "
        "join marts.dim_customers d using (customer_id)"
    ).df()
    assert circles.customer_id.is_unique
    partner = circles.circle == "partner"
    assert (circles[partner].converted_referral_count >= 1).all()
    assert (circles[~partner].converted_referral_count == 0).all()
    friend = circles.circle == "friend"
    assert (circles[friend].is_member & (circles[friend].lifetime_orders >= 2)).all()
    prospect = circles.circle == "prospect"
    assert (circles[prospect].lifetime_orders == 0).all()
    assert (~circles[prospect].is_member).all()


def test_referrals_resolve_to_known_customers(db):
    referrals = db.execute("select * from marts.fct_referrals").df()
    dim = set(db.execute("select customer_id from marts.dim_customers").df().customer_id)
    assert set(referrals.referred_customer_id) <= dim
    assert set(referrals.referrer_customer_id.dropna()) <= dim
    converted = referrals[referrals.has_converted]
    assert (converted.days_to_first_purchase >= 0).all()


def test_cross_channel_rates_are_shares_and_cumulative(db):
    kpi = db.execute(
        "select * from marts.cross_channel_identification_monthly order by month_start"
    ).df()
    assert len(kpi) > 0
    for rate in ["multi_channel_customer_rate", "channel_identity_resolution_rate"]:
        assert kpi[rate].between(0, 1).all()
    assert kpi.customers_seen.is_monotonic_increasing
    assert kpi.channel_identities_seen.is_monotonic_increasing
    # (a) in the last month recomputed from dim_customers' channel counts
    last = kpi.iloc[-1]
    multi = db.execute(
        "select count(*) filter (where channel_count >= 2), "
        "count(*) filter (where channel_count >= 1) from marts.dim_customers"
    ).fetchone()
    assert (last.customers_seen_in_two_plus_channels, last.customers_seen) == multi


# a mainland mobile number, however formatted, not inside a longer token
PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![0-9A-Za-z])")
HASH = re.compile(r"[0-9a-f]{32}")


def test_no_raw_identifiers_in_customer_marts(db):
    for table in MARTS:
        columns = db.execute(
            "select column_name from information_schema.columns "
            f"where table_schema = 'marts' and table_name = '{table}' and data_type = 'VARCHAR'"
        ).fetchall()
        for (column,) in columns:
            values = db.execute(f'select distinct "{column}" from marts.{table}').fetchall()
            if column == "identity_hash":  # keyed hashes: random hex, checked for their form
                assert all(HASH.fullmatch(v) for (v,) in values)
                continue
            hits = [v for (v,) in values if v and PHONE.search(v)]
            assert not hits, (table, column, hits[:3])
    names = {
        c
        for (c,) in db.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            f"and table_name in ({', '.join(repr(t) for t in MARTS)})"
        ).fetchall()
    }
    assert not {"phone", "phone_raw", "identity_value", "member_id", "buyer_id", "unionid"} & names


def test_predict_clv_reports_too_small_worlds_without_crashing():
    summary = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "frequency": [1, 0],
            "recency": [31, 0],
            "T": [59, 45],
            "monetary_value": [50.0, 0.0],
            "observation_end_date": pd.to_datetime(["2026-03-01", "2026-03-01"]),
        }
    )
    table, result, _ = predict_clv(summary)
    assert result.fit_status == "too_few_repeat_buyers"
    assert list(table.customer_id) == ["a", "b"]
    assert table.predicted_clv.isna().all()
    assert (table.observation_end == pd.Timestamp("2026-03-01")).all()
    empty, result, _ = predict_clv(summary.iloc[0:0])
    assert result.fit_status == "empty" and empty.empty


def test_clv_summary_is_lifetimes_summary_of_the_valid_sales(db, valid_orders):
    """The warehouse's CLV input equals what lifetimes itself makes of the valid sales."""
    end = db.execute("select max(order_date_local) from marts.fct_orders").fetchone()[0]
    expected = summary_data_from_transaction_data(
        valid_orders.assign(net_amount=valid_orders.net_revenue_cny.astype(float)),
        customer_id_col="customer_id",
        datetime_col="order_date_local",
        monetary_value_col="net_amount",
        observation_period_end=end,
        freq="D",
    ).sort_index()
    summary = db.execute(SUMMARY_SQL).df().set_index("customer_id").sort_index().loc[expected.index]
    assert len(summary) == len(expected) > 0
    for column in ("frequency", "recency", "T"):
        assert (summary[column].to_numpy() == expected[column].to_numpy()).all(), column
    assert summary.monetary_value.to_numpy() == pytest.approx(
        expected.monetary_value.to_numpy(), rel=1e-9
    )


def test_clv_asset_writes_predictions_for_every_buyer(warehouse, tmp_path, valid_orders):
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse, copy)
    result = materialize(
        [customer_clv], resources={"warehouse": DuckDBResource(database=str(copy))}
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    assert event.asset_key == CUSTOMER_CLV
    metadata = event.materialization.metadata
    with duckdb.connect(str(copy), read_only=True) as conn:
        clv = conn.execute("select * from predictions.customer_clv").df()
    assert set(clv.customer_id) == set(valid_orders.customer_id)
    assert clv.customer_id.is_unique
    assert clv.fit_status.nunique() == 1
    if metadata["fit_status"].value in ("ok", "ok_pooled_spend"):
        assert set(metadata["bgnbd_params"].value) == {"r", "alpha", "a", "b"}
        assert clv.probability_alive.between(0, 1).all()
        assert (clv.predicted_clv >= 0).all()
    else:  # too small a world: no value predicted
        assert clv.predicted_clv.isna().all()


def test_every_dbt_unit_test_passes_on_a_built_warehouse(warehouse, tmp_path):
    """The hand-computed cases of every model (stages, tags, attribution, a night's batch...).
    The pipeline's builds leave unit tests out: they check SQL on fixed inputs, not the data.
    The batch cases (tag needs_built_model) read the model's own table, hence a built
    warehouse."""
    copy = tmp_path / "unit.duckdb"
    shutil.copy(warehouse, copy)
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        # own target and log paths: never touch the project's manifest that Dagster loads
        [
            str(dbt),
            "test",
            "--profiles-dir",
            ".",
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
            "--select",
            "test_type:unit",
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, "WAREHOUSE_PATH": str(copy)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    # the Done line also counts the run's on-run-start hook: count the unit tests that passed
    passed = set(re.findall(r" PASS \w+::(\w+)", result.stdout))
    assert passed == _unit_tests_defined(), result.stdout[-3000:]


def _unit_tests_defined() -> set[str]:
    defined = set()
    for properties in (DBT_PROJECT_DIR / "models").rglob("*.yml"):
        document = yaml.safe_load(properties.read_text()) or {}
        defined |= {case["name"] for case in document.get("unit_tests", [])}
    return defined
