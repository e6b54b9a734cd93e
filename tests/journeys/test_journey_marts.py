"""The journey and attribution marts and the Markov asset, on small graphs and on built worlds.

Built worlds come from the session fixtures `small_world` / `default_world` (the real pipeline,
which must include `journey_assets`).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from dagster import materialize
from dagster_duckdb import DuckDBResource

from orchestration.journeys.assets import markov_channel_attribution, read_paths
from orchestration.journeys.markov import markov_attribution, rule_based_credits

ATTRIBUTION_MODELS = {
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "markov",
}
HALF_LIFE_DAYS = 7  # dbt var attribution_half_life_days

PATH_ROWS = [
    ("xiaohongshu > wechat > pos", 40, 10, 4000.0),
    ("xiaohongshu > xiaohongshu", 12, 30, 1500.0),
    ("weibo", 1, 60, 80.0),
    ("weibo > wechat", 8, 20, 900.0),
    ("douyin > douyin > wechat", 15, 15, 1700.5),
    ("tmall", 25, 0, 3300.25),
    ("douyin", 0, 45, 0.0),
]


def _warehouse_with_paths(path) -> None:
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA marts")
        conn.execute(
            "CREATE TABLE marts.journey_paths_for_markov (channel_path VARCHAR, "
            "conversions BIGINT, non_conversions BIGINT, revenue_cny DECIMAL(18, 2))"
        )
        conn.executemany(
            "INSERT INTO marts.journey_paths_for_markov VALUES (?, ?, ?, ?)", PATH_ROWS
        )


@pytest.fixture(scope="module")
def markov_table(tmp_path_factory) -> pd.DataFrame:
    database = tmp_path_factory.mktemp("markov") / "warehouse.duckdb"
    _warehouse_with_paths(database)
    result = materialize(
        [markov_channel_attribution],
        resources={"warehouse": DuckDBResource(database=str(database))},
    )
    assert result.success
    with duckdb.connect(str(database), read_only=True) as conn:
        return conn.execute("SELECT * FROM predictions.markov_channel_attribution").df()


def test_markov_asset_agrees_with_markov_attribution(markov_table):
    paths = pd.DataFrame(
        {
            "path": [row[0].split(" > ") for row in PATH_ROWS],
            "conversions": [row[1] for row in PATH_ROWS],
            "non_conversions": [row[2] for row in PATH_ROWS],
            "revenue": [row[3] for row in PATH_ROWS],
        }
    )
    expected = markov_attribution(paths).set_index("channel")
    actual = markov_table.set_index("channel").loc[expected.index]
    for column in ["removal_effect", "share", "attributed_conversions"]:
        np.testing.assert_allclose(actual[column], expected[column], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        actual["attributed_revenue_cny"], expected["attributed_revenue"], rtol=1e-12
    )


def test_markov_asset_credits_sum_to_revenue_and_conversions(markov_table):
    assert markov_table["attributed_revenue_cny"].sum() == pytest.approx(
        sum(row[3] for row in PATH_ROWS), abs=1e-6
    )
    assert markov_table["attributed_conversions"].sum() == pytest.approx(
        sum(row[1] for row in PATH_ROWS)
    )
    assert markov_table["share"].sum() == pytest.approx(1.0)


def test_markov_asset_counts_channel_exposure(markov_table):
    exposure = markov_table.set_index("channel")
    # douyin: 2 touches on 30 journeys + 1 touch on 45 journeys
    assert exposure.loc["douyin", "channel_touches"] == 2 * 30 + 45
    assert exposure.loc["douyin", "journeys_with_channel"] == 30 + 45
    assert exposure.loc["douyin", "attributed_conversions_per_touch"] == pytest.approx(
        exposure.loc["douyin", "attributed_conversions"] / 105
    )


# PATH_ROWS a day later: one more tmall conversion (25 -> 26, 100 CNY more), a small move
NEXT_DAY = [row if row[0] != "tmall" else ("tmall", 26, 0, 3400.25) for row in PATH_ROWS]


def _refit(database, paths: list[tuple], **config) -> pd.DataFrame:
    with duckdb.connect(str(database)) as conn:
        conn.execute("DELETE FROM marts.journey_paths_for_markov")
        conn.executemany("INSERT INTO marts.journey_paths_for_markov VALUES (?, ?, ?, ?)", paths)
    result = materialize(
        [markov_channel_attribution],
        resources={"warehouse": DuckDBResource(database=str(database))},
        run_config={"ops": {"predictions__markov_channel_attribution": {"config": config}}},
    )
    assert result.success
    with duckdb.connect(str(database), read_only=True) as conn:
        table = conn.execute("SELECT * FROM predictions.markov_channel_attribution").df()
    return table.set_index("channel").sort_index()


def _paths(rows: list[tuple]) -> pd.DataFrame:
    return read_paths(
        pd.DataFrame(rows, columns=["path", "conversions", "non_conversions", "revenue"])
    )


def test_a_refit_within_the_tolerance_keeps_the_effects_and_credits_the_new_totals(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    _warehouse_with_paths(database)
    first = _refit(database, PATH_ROWS, refit_tolerance=0.005)
    refitted = markov_attribution(_paths(NEXT_DAY)).set_index("channel")["removal_effect"]
    drift = float((refitted - first["removal_effect"]).abs().max())
    assert 0 < drift < 0.05

    kept = _refit(database, NEXT_DAY, refit_tolerance=0.05)
    assert kept["removal_effect"].to_dict() == first["removal_effect"].to_dict()
    conversions = sum(row[1] for row in NEXT_DAY)
    np.testing.assert_allclose(kept["attributed_conversions"], first["share"] * conversions)
    assert kept["attributed_revenue_cny"].sum() == pytest.approx(sum(row[3] for row in NEXT_DAY))

    adopted = _refit(database, NEXT_DAY, refit_tolerance=drift / 2)
    np.testing.assert_allclose(adopted["removal_effect"], refitted.sort_index(), rtol=1e-12)


def test_a_full_refresh_adopts_the_refit_whatever_it_moved(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    _warehouse_with_paths(database)
    first = _refit(database, PATH_ROWS)
    refitted = markov_attribution(_paths(NEXT_DAY)).set_index("channel")["removal_effect"]
    kept = _refit(database, NEXT_DAY, refit_tolerance=1.0)
    assert kept["removal_effect"].to_dict() == first["removal_effect"].to_dict()
    rebuilt = _refit(database, NEXT_DAY, refit_tolerance=1.0, full_refresh=True)
    np.testing.assert_allclose(rebuilt["removal_effect"], refitted.sort_index(), rtol=1e-12)


def test_read_paths_splits_the_dbt_path_string():
    frame = pd.DataFrame(
        {
            "path": ["a > b > a"],
            "conversions": [1],
            "non_conversions": [2],
            "revenue": [None],
        }
    )
    paths = read_paths(frame)
    assert paths.loc[0, "path"] == ["a", "b", "a"]
    assert paths.loc[0, "revenue"] == 0.0


# ---------- on built worlds


def _query(world, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(world.warehouse), read_only=True) as conn:
        return conn.execute(sql).df()


def test_attribution_credits_sum_to_revenue_for_every_conversion_and_model(small_world):
    sums = _query(
        small_world,
        """
        SELECT order_key, attribution_model, count(*) AS touches,
            sum(credited_revenue_cny) AS credited, min(revenue_cny) AS revenue,
            max(revenue_cny) AS revenue_max
        FROM marts.fct_attribution_credits
        GROUP BY order_key, attribution_model
        """,
    )
    assert len(sums) > 0
    assert (sums["credited"] == sums["revenue"]).all()
    assert (sums["revenue"] == sums["revenue_max"]).all()
    per_conversion = sums.groupby("order_key")["attribution_model"].agg(set)
    assert all(models == ATTRIBUTION_MODELS for models in per_conversion)


def test_every_identified_valid_sale_is_credited(small_world):
    missing = _query(
        small_world,
        """
        SELECT count(*) AS n FROM marts.fct_orders AS o
        WHERE o.is_valid_sale AND o.customer_id IS NOT NULL
            AND o.order_key NOT IN (SELECT order_key FROM marts.fct_attribution_credits)
        """,
    )
    assert missing.loc[0, "n"] == 0


def test_rule_based_credits_match_the_python_reference(small_world):
    credits = _query(
        small_world,
        """
        SELECT order_key, attribution_model, touch_sequence, days_before_conversion,
            CAST(revenue_cny AS DOUBLE) AS revenue, credit_share
        FROM marts.fct_attribution_credits
        WHERE attribution_model <> 'markov' AND order_key IN (
            SELECT DISTINCT order_key FROM marts.fct_attribution_credits
            WHERE journey_touch_count >= 3 ORDER BY order_key LIMIT 200)
        ORDER BY order_key, attribution_model, touch_sequence
        """,
    )
    assert credits["order_key"].nunique() > 20
    for (_, model), group in credits.groupby(["order_key", "attribution_model"]):
        revenue = group["revenue"].iloc[0]
        expected = rule_based_credits(
            list(-group["days_before_conversion"]), 0.0, 1.0, model, HALF_LIFE_DAYS
        )
        np.testing.assert_allclose(group["credit_share"], expected, atol=1e-9)
        assert revenue >= 0


def test_journey_paths_count_converting_and_non_converting_journeys(small_world):
    paths = _query(
        small_world,
        "SELECT * FROM marts.journey_paths WHERE path_transform = 'full'",
    )
    journeys = _query(
        small_world,
        "SELECT count(*) AS n, sum(CASE WHEN is_converting THEN 1 ELSE 0 END) AS conv "
        "FROM marts.fct_journeys",
    )
    assert paths["journeys"].sum() == journeys.loc[0, "n"]
    assert paths["converting_journeys"].sum() == journeys.loc[0, "conv"]
    assert paths["non_converting_journeys"].sum() > 0


def _touch_channel_efficiency(world) -> pd.DataFrame:
    """Markov-attributed conversions per journey reached, for each channel customers are touched
    on: the removal-effect credit normalised by the channel's reach, so a channel is not ranked
    by how many people it touches but by what touching them yields."""
    markov = _query(
        world,
        """
        SELECT channel, removal_effect, attributed_conversions, journeys_with_channel,
            attributed_conversions / journeys_with_channel AS attributed_conversions_per_journey
        FROM predictions.markov_channel_attribution
        WHERE channel IN (
            SELECT DISTINCT channel FROM marts.fct_touchpoints WHERE is_marketing_touch)
        """,
    )
    truth = pd.read_parquet(world.truth / "channel_effects.parquet")
    return markov.merge(truth[["channel", "lift", "is_effective"]], on="channel")


def test_effective_channels_rank_above_ineffective_ones_by_markov(default_world):
    """Channels the generator made effective earn more Markov-attributed conversions per journey.

    Only channels with customer touches (social platforms, store visits) can be measured by
    journey attribution; the sales channels' true lift acts through campaigns on the channel.
    """
    ranked = _touch_channel_efficiency(default_world).sort_values(
        "attributed_conversions_per_journey", ascending=False
    )
    assert ranked["is_effective"].any() and (~ranked["is_effective"]).any(), ranked
    effective = ranked.loc[ranked["is_effective"], "attributed_conversions_per_journey"]
    ineffective = ranked.loc[~ranked["is_effective"], "attributed_conversions_per_journey"]
    assert effective.min() > ineffective.max(), ranked
