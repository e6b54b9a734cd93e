"""Customer lifetime value as a Dagster asset: BG/NBD + Gamma-Gamma on the valid sales of the order
book.

Reads the per-customer purchase summary the warehouse computes (int_customers__clv_summary: one
row per customer with a valid sale), fits the models (`fit_clv`) and writes
`predictions.customer_clv`, which dbt reads back as the source `predictions.customer_clv`
(dim_customers). A world too small to fit still writes one row per customer, with null predictions
and the reason in `fit_status`.
"""

from __future__ import annotations

import pandas as pd
from dagster import AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from orchestration.customers.clv import SUMMARY_COLUMNS, fit_clv
from orchestration.warehouse_tables import replace_table

CUSTOMER_CLV = AssetKey(["predictions", "customer_clv"])
CLV_SUMMARY = AssetKey(["intermediate", "int_customers__clv_summary"])
HORIZON_DAYS = 365

# The summary's columns under their lifetimes names.
SUMMARY_SQL = """
    SELECT customer_id, repeat_purchase_days AS frequency, recency_days AS recency,
        age_days AS "T", mean_repeat_purchase_day_cny AS monetary_value, observation_end_date
    FROM intermediate.int_customers__clv_summary
"""
CLV_COLUMNS = [
    "customer_id",
    "probability_alive",
    "expected_purchases",
    "expected_avg_order_value",
    "predicted_clv",
    "fit_status",
]


def predict_clv(summary: pd.DataFrame):
    """(one row per customer: CLV_COLUMNS + horizon_days, observation_end; ClvResult; summary)
    from SUMMARY_SQL's rows."""
    observation_end = summary["observation_end_date"].max() if len(summary) else None
    summary = summary[SUMMARY_COLUMNS]
    result = fit_clv(summary, horizon_days=HORIZON_DAYS)
    table = result.predictions.assign(fit_status=result.fit_status)[CLV_COLUMNS]
    table["customer_id"] = table["customer_id"].astype(str)
    table["horizon_days"] = result.horizon_days
    table["observation_end"] = pd.to_datetime(observation_end) if observation_end else pd.NaT
    return table, result, summary


CLV_TYPES = {
    "customer_id": "VARCHAR",
    "probability_alive": "DOUBLE",
    "expected_purchases": "DOUBLE",
    "expected_avg_order_value": "DOUBLE",
    "predicted_clv": "DOUBLE",
    "fit_status": "VARCHAR",
    "horizon_days": "INTEGER",
    "observation_end": "DATE",
}


def _write(conn, table: pd.DataFrame) -> None:
    replace_table(conn, "predictions", "customer_clv", table[list(CLV_TYPES)], CLV_TYPES)


@asset(
    key=CUSTOMER_CLV,
    group_name="customers",
    kinds={"python", "duckdb"},
    deps=[CLV_SUMMARY],
    description="Predicted customer lifetime value (BG/NBD + Gamma-Gamma, lifetimes) per "
    "customer with a valid sale, over the next 365 days.",
)
def customer_clv(warehouse: DuckDBResource) -> MaterializeResult:
    with warehouse.get_connection() as conn:
        table, result, summary = predict_clv(conn.execute(SUMMARY_SQL).df())
        _write(conn, table)
    return MaterializeResult(
        metadata={
            "fit_status": str(table.fit_status.iloc[0]) if len(table) else result.fit_status,
            "fit_message": result.fit_message,
            "customers": len(table),
            "repeat_buyers": int((summary["frequency"] > 0).sum()),
            "observation_end": str(table.observation_end.max().date()) if len(table) else "None",
            "horizon_days": result.horizon_days,
            "bgnbd_params": MetadataValue.json(result.frequency_params),
            "gamma_gamma_params": MetadataValue.json(result.spend_params),
            "total_predicted_clv": float(table.predicted_clv.sum(min_count=0)),
        }
    )


customer_assets = [customer_clv]
