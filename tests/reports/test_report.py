"""The HTML report and the KPI scorecard.

Fast tests render the report from a tiny hand-made warehouse; the small-world tests check the
scorecard's values against independent recomputations from the order book, the touchpoints,
the load log and the price lists, and the report's headline numbers against the scorecard.
"""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest
from dagster import materialize
from dagster_duckdb import DuckDBResource
from plotly.offline import get_plotlyjs

from orchestration import settings
from orchestration.reports import assets as report_assets_module
from orchestration.reports.assets import OMNICHANNEL_REPORT, omnichannel_report, report_assets
from orchestration.reports.html_report import (
    KPI_ORDER,
    format_value,
    headline_numbers,
    latest_full_month,
    render_report,
)

SECTION_IDS = ["kpi-scorecard", "value-ring", "top-paths", "channel-roi", "lifecycle"]
TARGETS = {
    "cross_channel_identification_rate": ("relative_change", 0.30, True, "share"),
    "avg_touches_per_customer": ("relative_change", -0.25, False, "touches"),
    "campaign_conversion_rate": ("relative_change", 0.40, True, "share"),
    "repurchase_rate": ("at_least", 0.50, True, "share"),
    "marketing_waste_rate": ("relative_change", -0.35, False, "share"),
    "brand_consistency_rate": ("more_than", 0.90, True, "share"),
    "data_accuracy": ("at_least", 0.98, True, "share"),
}


def _tiny_warehouse(path) -> None:
    """The marts the report reads, a few hand-made rows each."""
    values = {
        "cross_channel_identification_rate": [0.20, 0.24, 0.27],
        "avg_touches_per_customer": [10.0, 9.0, 7.0],
        "campaign_conversion_rate": [0.10, 0.12, 0.11],
        "repurchase_rate": [0.30, 0.40, 0.55],
        "marketing_waste_rate": [0.20, 0.15, 0.12],
        "brand_consistency_rate": [0.95, 0.93, 0.92],
        "data_accuracy": [0.99, 0.985, 0.97],
    }
    months = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    rows = []
    for kpi, series in values.items():
        kind, target, higher, unit = TARGETS[kpi]
        base = series[0]
        for month, value in zip(months, series, strict=True):
            change = value / base - 1
            level = base * (1 + target) if kind == "relative_change" else target
            if kind == "relative_change":
                on = change >= target if higher else change <= target
            elif kind == "at_least":
                on = value >= target
            else:
                on = value > target
            rows.append(
                (
                    kpi,
                    f"{kpi} label",
                    f"{kpi} definition",
                    f"{kpi}_model",
                    unit,
                    month,
                    True,
                    value,
                    months[0],
                    base,
                    change,
                    kind,
                    target,
                    level,
                    higher,
                    on,
                )
            )
    with duckdb.connect(str(path)) as conn:
        conn.execute("create schema marts")
        conn.execute(
            """create table marts.kpi_scorecard (kpi varchar, kpi_label varchar,
            definition varchar, source_model varchar, value_unit varchar, month_start date,
            is_full_month boolean, value double, baseline_month date, baseline_value double,
            change_vs_baseline double, target_kind varchar, target double, target_level double,
            is_higher_better boolean,
            is_on_target boolean)"""
        )
        conn.executemany(
            "insert into marts.kpi_scorecard values "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute(
            """create table marts.fct_touchpoints as
            select 'c1' as customer_id, timestamp '2026-03-20 10:00:00' as touched_at_local"""
        )
        stages = ["acquisition", "conversion", "purchase", "retention", "activity", "referral"]
        conn.execute(
            """create table marts.value_ring_monthly (month_start date, channel varchar,
            stage_number integer, ring_stage varchar, customers bigint,
            previous_stage_customers bigint, share_of_acquired double,
            drop_off_from_previous_stage double)"""
        )
        for month, scale in ((date(2026, 2, 1), 1000), (date(2026, 3, 1), 500)):
            counts = [scale, scale * 8 // 10, scale // 2, scale // 5, scale // 10, scale // 50]
            for i, (stage, n) in enumerate(zip(stages, counts, strict=True)):
                previous = counts[i - 1] if i else n
                for channel in ("all", "douyin"):
                    conn.execute(
                        "insert into marts.value_ring_monthly values (?, ?, ?, ?, ?, ?, ?, ?)",
                        [month, channel, i + 1, stage, n, previous, n / scale, 1 - n / previous],
                    )
        conn.execute(
            """create table marts.journey_paths as select * from (values
            ('deduplicated', 'xiaohongshu > wechat > pos', false, 100, 40, 0.4, 9000.0, 5.0),
            ('deduplicated', 'douyin > douyin_shop', false, 80, 30, 0.375, 4000.0, 2.0),
            ('deduplicated', 'wechat > xiaohongshu > wechat', false, 30, 10, 0.333, 2500.0, 7.0),
            ('deduplicated', 'tmall', true, 50, 50, 1.0, 5000.0, 0.0),
            ('full', 'xiaohongshu > xiaohongshu > wechat > pos', false, 60, 20, 0.333, 1.0, 5.0)
            ) as t(path_transform, channel_path, is_direct, journeys, converting_journeys,
                   conversion_rate, revenue_cny, avg_days_to_convert)"""
        )
        conn.execute(
            """create table marts.channel_roi_monthly as select * from (values
            (date '2026-02-01', 'douyin', 'last_touch', 1000.0, 3000.0),
            (date '2026-03-01', 'douyin', 'last_touch', 1000.0, 1000.0),
            (date '2026-02-01', 'douyin', 'markov', 1000.0, 2500.0),
            (date '2026-02-01', 'xiaohongshu', 'last_touch', 500.0, 400.0),
            (date '2026-02-01', 'xiaohongshu', 'markov', 500.0, 900.0),
            (date '2026-02-01', 'pos', 'markov', 0.0, 900.0)
            ) as t(month_start, channel, attribution_model, spend_cny, attributed_revenue_cny)"""
        )
        conn.execute(
            """create table marts.customer_lifecycle_monthly as select * from (values
            ('a', date '2026-01-01', 'new'), ('b', date '2026-01-01', 'prospect'),
            ('a', date '2026-02-01', 'active'), ('b', date '2026-02-01', 'new'),
            ('a', date '2026-03-01', 'active'), ('b', date '2026-03-01', 'active'),
            ('c', date '2026-03-01', 'new')
            ) as t(customer_id, month_start, lifecycle_stage)"""
        )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_report") / "warehouse.duckdb"
    _tiny_warehouse(path)
    return path


@pytest.fixture(scope="module")
def tiny_page(tiny):
    with duckdb.connect(str(tiny), read_only=True) as conn:
        return render_report(conn), headline_numbers(conn)


def test_report_has_every_section_and_works_offline(tiny_page):
    page, _ = tiny_page
    for section in SECTION_IDS:
        assert f'id="{section}"' in page
    for plot in ("value-ring-funnel", "top-paths-sankey", "channel-roi-bars", "lifecycle-area"):
        assert f'id="{plot}"' in page
    assert '"type":"funnel"' in page and '"type":"sankey"' in page
    # plotly.js is inlined: no script is fetched from a network.
    assert not re.search(r"<script[^>]+src=", page)
    assert get_plotlyjs() in page


def test_headline_numbers_are_the_scorecards_latest_month(tiny, tiny_page):
    page, headlines = tiny_page
    with duckdb.connect(str(tiny), read_only=True) as conn:
        latest = conn.execute(
            "select kpi, value, is_on_target, value_unit from marts.kpi_scorecard "
            "where month_start = date '2026-03-01'"
        ).fetchall()
    assert headlines["kpis"] == {kpi: value for kpi, value, _, _ in latest}
    assert headlines["on_target_count"] == sum(1 for _, _, on, _ in latest if on)
    assert headlines["kpi_count"] == 7
    for kpi, value, _, unit in latest:
        row = re.search(rf'<tr data-kpi="{kpi}">(.*?)</tr>', page, re.S).group(1)
        assert f'<td class="value">{format_value(value, unit)}</td>' in row
    assert f"<strong>{headlines['on_target_count']} of 7</strong>" in page
    # KPI rows come in the domain brief's order.
    positions = [page.index(f'data-kpi="{kpi}"') for kpi in KPI_ORDER]
    assert positions == sorted(positions)


def test_funnel_uses_the_latest_full_month_and_all_channels(tiny_page):
    page, _ = tiny_page
    # Data ends on 2026-03-20: March is partial, so the February cohort (1000 acquired) shows.
    assert "<strong>2026-02</strong>" in page
    assert latest_full_month(
        __import__("pandas").Series([date(2026, 2, 1), date(2026, 3, 1)]), date(2026, 3, 31)
    ) == date(2026, 3, 1)


def test_sankey_shows_touched_converting_paths_only(tiny_page):
    page, _ = tiny_page
    assert "xiaohongshu &gt; wechat &gt; pos" in page
    assert "wechat &gt; xiaohongshu &gt; wechat" in page
    # direct conversions and other transforms stay out
    assert "<td>tmall</td>" not in page
    assert "xiaohongshu &gt; xiaohongshu" not in page


def test_asset_writes_the_report_beside_the_published_warehouse(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "PUBLISHED_WAREHOUSE_PATH", tmp_path / "pub" / "w.duckdb")
    result = materialize(
        [omnichannel_report],
        resources={"warehouse": DuckDBResource(database=str(tiny))},
    )
    assert result.success
    path = tmp_path / "pub" / "reports" / "omnichannel_report.html"
    assert path.is_file() and 'id="kpi-scorecard"' in path.read_text(encoding="utf-8")
    event = result.get_asset_materialization_events()[0].materialization
    assert event.asset_key == OMNICHANNEL_REPORT
    assert event.metadata["path"].value == str(path)
    assert event.metadata["kpis_reported"].value == 7
    assert event.metadata["kpi/repurchase_rate"].value == pytest.approx(0.55)
    assert report_assets == [omnichannel_report]
    assert report_assets_module.reports_dir() == tmp_path / "pub" / "reports"
    dep_keys = {k.path[-1] for k in omnichannel_report.asset_deps[OMNICHANNEL_REPORT]}
    assert {"kpi_scorecard", "value_ring_monthly", "journey_paths"} <= dep_keys


# ---------- the small world: the scorecard against independent recomputations


@pytest.fixture(scope="module")
def world_db(small_world):
    conn = duckdb.connect(str(small_world.warehouse), read_only=True)
    yield conn
    conn.close()


def _scorecard(conn, kpi: str) -> dict:
    rows = conn.execute(
        "select month_start, value from marts.kpi_scorecard where kpi = ? and value is not null",
        [kpi],
    ).fetchall()
    return {month: value for month, value in rows}


def _assert_same(
    scorecard: dict, recomputed: dict, rel: float = 1e-9, allow_empty: bool = False
) -> None:
    assert scorecard or allow_empty, "the scorecard has no value"
    assert set(scorecard) == set(recomputed)
    for month, value in recomputed.items():
        assert scorecard[month] == pytest.approx(value, rel=rel), month


def test_scorecard_has_every_kpi_with_a_value(world_db):
    kpis = {
        k for (k,) in world_db.execute("select distinct kpi from marts.kpi_scorecard").fetchall()
    }
    assert kpis == set(KPI_ORDER)
    valued = {
        k
        for (k,) in world_db.execute(
            "select distinct kpi from marts.kpi_scorecard where value is not null"
        ).fetchall()
    }
    # The campaign conversion rate waits for a month's touches to have had the whole lookback.
    assert set(KPI_ORDER) - valued <= {"campaign_conversion_rate"}


def test_repurchase_rate_recomputed_from_the_order_book(world_db):
    rows = world_db.execute(
        """
        select month, avg(case when n >= 2 then 1.0 else 0.0 end)
        from (
            select date_trunc('month', order_date_local)::date as month, customer_id,
                count(*) as n
            from marts.fct_orders where is_valid_sale and customer_id is not null
            group by 1, 2
        ) group by month
        """
    ).fetchall()
    _assert_same(_scorecard(world_db, "repurchase_rate"), dict(rows))


def test_touches_per_customer_recomputed_from_touchpoints(world_db):
    rows = world_db.execute(
        """
        select date_trunc('month', touched_at_local)::date, count(*) / count(distinct customer_id)
        from marts.fct_touchpoints where is_marketing_touch and customer_id is not null
        group by 1
        """
    ).fetchall()
    # touch_frequency_monthly stores dbt.type_float(), single precision on DuckDB
    _assert_same(_scorecard(world_db, "avg_touches_per_customer"), dict(rows), rel=1e-6)


def test_data_accuracy_recomputed_from_the_load_log(world_db):
    rows = world_db.execute(
        """
        select date_trunc('month', partition_day::date)::date,
            sum(rows_loaded) / sum(rows_loaded + rows_quarantined)
        from audit.load_log where is_current group by 1
        having sum(rows_loaded + rows_quarantined) > 0
        """
    ).fetchall()
    _assert_same(_scorecard(world_db, "data_accuracy"), dict(rows))


def test_brand_consistency_recomputed_from_the_price_lists(world_db):
    rows = world_db.execute(
        """
        with per_sku as (
            select price_date, sku_id, count(distinct channel) as channels,
                count(distinct list_price_cny) = 1 and count(distinct product_title) = 1 as same
            from marts.fct_channel_prices_daily group by 1, 2
        ),
        daily as (
            select price_date, avg(case when same then 1.0 else 0.0 end) as rate
            from per_sku where channels >= 2 group by 1
        )
        select date_trunc('month', price_date)::date, avg(rate) from daily group by 1
        """
    ).fetchall()
    _assert_same(_scorecard(world_db, "brand_consistency_rate"), dict(rows))


@pytest.mark.parametrize(
    ("kpi", "sql"),
    [
        (
            "cross_channel_identification_rate",
            "select month_start, channel_identity_resolution_rate "
            "from marts.cross_channel_identification_monthly",
        ),
        (
            "marketing_waste_rate",
            "select month_start, waste_rate from marts.marketing_waste_monthly "
            "where channel = 'all'",
        ),
    ],
)
def test_scorecard_values_are_their_source_models_values(world_db, kpi, sql):
    recomputed = {m: v for m, v in world_db.execute(sql).fetchall() if v is not None}
    _assert_same(_scorecard(world_db, kpi), recomputed)


def test_campaign_conversion_rate_recomputed_from_campaign_roi(world_db):
    # Another model's rows (touch counts do not depend on the model); months whose touches
    # have all had the 30-day lookback to convert by the data's last touch.
    rows = world_db.execute(
        """
        select month_start, sum(converted_customers) / sum(touched_customers)
        from marts.campaign_roi_monthly
        where attribution_model = 'markov'
            and month_start + interval 1 month - interval 1 day + interval 30 day
                <= (select max(touched_at_local)::date from marts.fct_touchpoints)
        group by 1 having sum(touched_customers) > 0
        """
    ).fetchall()
    # The small world (60 days) has no month whose window completed: every value is null.
    _assert_same(_scorecard(world_db, "campaign_conversion_rate"), dict(rows), allow_empty=True)
    months = world_db.execute(
        "select count(distinct month_start) from marts.campaign_roi_monthly"
    ).fetchone()[0]
    rows_in_scorecard = world_db.execute(
        "select count(*) from marts.kpi_scorecard where kpi = 'campaign_conversion_rate'"
    ).fetchone()[0]
    assert rows_in_scorecard == months


def test_scorecard_baseline_and_targets(world_db):
    bad = world_db.execute(
        """
        with firsts as (
            select kpi, min(month_start) as first_month from marts.kpi_scorecard
            where value is not null group by kpi
        )
        select count(*) from marts.kpi_scorecard s inner join firsts f using (kpi)
        where s.baseline_month <> f.first_month
            or abs(s.change_vs_baseline - (s.value / s.baseline_value - 1)) > 1e-12
        """
    ).fetchone()[0]
    assert bad == 0
    targets = dict(
        world_db.execute("select distinct kpi, target from marts.kpi_scorecard").fetchall()
    )
    assert targets == pytest.approx({k: v[1] for k, v in TARGETS.items()})


def test_report_on_the_small_world(world_db):
    page = render_report(world_db)
    headlines = headline_numbers(world_db)
    for section in SECTION_IDS:
        assert f'id="{section}"' in page
    latest = world_db.execute(
        """
        select kpi, value, value_unit, is_on_target from (
            select *, row_number() over (
                partition by kpi order by is_full_month desc, month_start desc
            ) as rn
            from marts.kpi_scorecard where value is not null
        ) where rn = 1
        """
    ).fetchall()
    assert headlines["kpis"] == {kpi: value for kpi, value, _, _ in latest}
    assert headlines["on_target_count"] == sum(1 for *_, on in latest if on)
    for kpi, value, unit, _ in latest:
        row = re.search(rf'<tr data-kpi="{kpi}">(.*?)</tr>', page, re.S).group(1)
        assert f'<td class="value">{format_value(value, unit)}</td>' in row
