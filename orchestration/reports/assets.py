"""The omnichannel report as a Dagster asset: a static, self-contained HTML page per run.

Reads the marts through the `warehouse` resource, renders them with `render_report` and writes
`<directory of the published warehouse>/reports/omnichannel_report.html`. The materialisation
metadata carries the file's path and the headline numbers: each KPI's latest-month value from
marts.kpi_scorecard and how many KPIs are on target.
"""

from __future__ import annotations

from pathlib import Path

from dagster import AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.reports.html_report import headline_numbers, render_report

OMNICHANNEL_REPORT = AssetKey(["reports", "omnichannel_report"])
REPORT_FILE_NAME = "omnichannel_report.html"
# The marts the report reads (dagster-dbt keys: ["marts", <model>]).
REPORT_MARTS = [
    AssetKey(["marts", name])
    for name in (
        "kpi_scorecard",
        "value_ring_monthly",
        "fct_touchpoints",
        "journey_paths",
        "channel_roi_monthly",
        "customer_lifecycle_monthly",
    )
]


def reports_dir() -> Path:
    """Beside the published warehouse, read at call time (tests and runs set the variable)."""
    return settings.PUBLISHED_WAREHOUSE_PATH.parent / "reports"


def write_report(conn, directory: Path) -> tuple[Path, dict]:
    page = render_report(conn)
    headlines = headline_numbers(conn)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / REPORT_FILE_NAME
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    return path, headlines


@asset(
    key=OMNICHANNEL_REPORT,
    group_name="reports",
    kinds={"python", "plotly", "html"},
    deps=REPORT_MARTS,
    description="Static HTML report: KPI scorecard against the plan's targets, value-ring "
    "funnel, top converting paths (Sankey), ROI by channel and attribution model, lifecycle "
    "trend. Self-contained (plotly.js inlined), opens offline.",
)
def omnichannel_report(warehouse: DuckDBResource) -> MaterializeResult:
    with warehouse.get_connection() as conn:
        path, headlines = write_report(conn, reports_dir())
    metadata = {
        "path": MetadataValue.path(str(path)),
        "size_kb": round(path.stat().st_size / 1024, 1),
        "kpis_on_target": headlines["on_target_count"],
        "kpis_reported": headlines["kpi_count"],
        "latest_kpi_values": MetadataValue.json(
            {
                kpi: {
                    "month": headlines["months"][kpi],
                    "value": value,
                    "on_target": headlines["on_target"][kpi],
                }
                for kpi, value in headlines["kpis"].items()
            }
        ),
    }
    for kpi, value in headlines["kpis"].items():
        metadata[f"kpi/{kpi}"] = MetadataValue.float(float(value))
    return MaterializeResult(metadata=metadata)


report_assets = [omnichannel_report]
