"""Data-driven channel attribution as a Dagster asset: the first-order Markov chain of journeys.

Reads the distinct journey paths with their converting and non-converting counts and revenue from
the dbt model `marts.journey_paths_for_markov`, credits conversions and revenue to channels by
removal effect (`markov_attribution`) and writes `predictions.markov_channel_attribution`, which
dbt reads back as the source `predictions.markov_channel_attribution` (fct_attribution_credits,
the ROI marts). The chain is refitted every run; its removal effects replace those in force only
when they moved by more than the refit tolerance (`removal_effects_in_force`), so a night whose
journeys barely move the chain leaves every markov credit as it is.
"""

import pandas as pd
from dagster import AssetKey, Config, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from orchestration.journeys.markov import (
    credit_by_removal_effects,
    largest_move,
    markov_attribution,
    removal_effects_in_force,
)
from orchestration.warehouse_tables import replace_table, table_exists

MARKOV_ATTRIBUTION = AssetKey(["predictions", "markov_channel_attribution"])
JOURNEY_PATHS = AssetKey(["marts", "journey_paths_for_markov"])
PATH_SEPARATOR = " > "

PATHS_SQL = """
    SELECT channel_path AS path, CAST(conversions AS BIGINT) AS conversions,
        CAST(non_conversions AS BIGINT) AS non_conversions,
        CAST(revenue_cny AS DOUBLE) AS revenue
    FROM marts.journey_paths_for_markov
    WHERE channel_path IS NOT NULL
"""
MARKOV_TYPES = {
    "channel": "VARCHAR",
    "removal_effect": "DOUBLE",
    "share": "DOUBLE",
    "attributed_conversions": "DOUBLE",
    "attributed_revenue_cny": "DOUBLE",
    "journeys_with_channel": "BIGINT",
    "channel_touches": "BIGINT",
    "attributed_conversions_per_touch": "DOUBLE",
}
OUTPUT_COLUMNS = list(MARKOV_TYPES)


def read_paths(frame: pd.DataFrame) -> pd.DataFrame:
    """The dbt rows (path as 'a > b > c') as markov_attribution input (path as a list)."""
    paths = frame.copy()
    paths["path"] = paths["path"].str.split(PATH_SEPARATOR)
    paths["revenue"] = paths["revenue"].fillna(0.0).astype(float)
    return paths[["path", "conversions", "non_conversions", "revenue"]]


def channel_attribution(paths: pd.DataFrame, removal_effects: pd.Series) -> pd.DataFrame:
    """The conversions and revenue of `paths` credited by the removal effects (channel -> effect),
    plus each channel's exposure: journeys on which it appears and touches.

    `attributed_conversions_per_touch` is the channel's efficiency: the conversions the removal
    effect credits to it per touch it made (comparable across channels of different reach).
    """
    attribution = credit_by_removal_effects(removal_effects, paths).rename(
        columns={"attributed_revenue": "attributed_revenue_cny"}
    )
    weight = paths["conversions"] + paths["non_conversions"]
    exposure = (
        pd.DataFrame(
            {
                "channel": [c for path in paths["path"] for c in path],
                "touches": [w for path, w in zip(paths["path"], weight, strict=True) for _ in path],
            }
        )
        .groupby("channel")["touches"]
        .sum()
    )
    journeys = (
        pd.DataFrame(
            {
                "channel": [c for path in paths["path"] for c in set(path)],
                "journeys": [
                    w for path, w in zip(paths["path"], weight, strict=True) for _ in set(path)
                ],
            }
        )
        .groupby("channel")["journeys"]
        .sum()
    )
    attribution["journeys_with_channel"] = (
        attribution["channel"].map(journeys).fillna(0).astype("int64")
    )
    attribution["channel_touches"] = attribution["channel"].map(exposure).fillna(0).astype("int64")
    attribution["attributed_conversions_per_touch"] = attribution[
        "attributed_conversions"
    ] / attribution["channel_touches"].where(attribution["channel_touches"] > 0)
    return attribution[OUTPUT_COLUMNS]


class MarkovRefitConfig(Config):
    """Launchpad options: how far a refit may move any channel's removal effect and still leave
    the effects in force (and so every markov credit) as they are; 0 adopts every refit, and so
    does a full refresh, which must build what a new warehouse would."""

    refit_tolerance: float = 0.005
    full_refresh: bool = False


def _removal_effects_in_force(conn) -> pd.Series | None:
    if not table_exists(conn, "predictions", "markov_channel_attribution"):
        return None
    frame = conn.execute(
        "SELECT channel, removal_effect FROM predictions.markov_channel_attribution"
    ).df()
    return frame.set_index("channel")["removal_effect"].astype(float)


def _write(conn, table: pd.DataFrame) -> None:
    replace_table(
        conn, "predictions", "markov_channel_attribution", table[OUTPUT_COLUMNS], MARKOV_TYPES
    )


@asset(
    key=MARKOV_ATTRIBUTION,
    group_name="journeys",
    kinds={"python", "duckdb"},
    deps=[JOURNEY_PATHS],
    description="Channel attribution by a first-order Markov chain over converting and "
    "non-converting journeys: removal effect, share, attributed conversions and revenue.",
)
def markov_channel_attribution(
    warehouse: DuckDBResource, config: MarkovRefitConfig
) -> MaterializeResult:
    with warehouse.get_connection() as conn:
        paths = read_paths(conn.execute(PATHS_SQL).df())
        refitted = (
            markov_attribution(paths).set_index("channel")["removal_effect"]
            if len(paths)
            else pd.Series(dtype=float)
        )
        in_force = None if config.full_refresh else _removal_effects_in_force(conn)
        effects, adopted = removal_effects_in_force(refitted, in_force, config.refit_tolerance)
        table = (
            channel_attribution(paths, effects)
            if len(paths)
            else pd.DataFrame({column: [] for column in OUTPUT_COLUMNS})
        )
        _write(conn, table)
    ranked = table.sort_values("share", ascending=False)
    return MaterializeResult(
        metadata={
            "refit_adopted": adopted,
            "refit_largest_change": largest_move(refitted, in_force),
            "paths": len(paths),
            "conversions": int(paths["conversions"].sum()) if len(paths) else 0,
            "non_conversions": int(paths["non_conversions"].sum()) if len(paths) else 0,
            "revenue_cny": float(paths["revenue"].sum()) if len(paths) else 0.0,
            "channel_shares": MetadataValue.json(
                {row.channel: round(float(row.share), 4) for row in ranked.itertuples()}
            ),
        }
    )


journey_assets = [markov_channel_attribution]
