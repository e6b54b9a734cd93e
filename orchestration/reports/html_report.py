"""The static omnichannel report: one self-contained HTML page (plotly.js inlined, works offline).

`render_report(conn)` reads the published marts through a DuckDB connection and returns the page:

1. the KPI scorecard (marts.kpi_scorecard): each KPI's latest month against its target, with a
   trend line of every month and the target level;
2. the value ring (marts.value_ring_monthly, channel 'all'): the latest full acquisition month's
   cohort as a funnel, acquisition → referral;
3. the top converting journey paths (marts.journey_paths, consecutive repeats removed) as a Sankey
   diagram, with their counts and conversion rates;
4. ROAS by marketing channel and attribution model (marts.channel_roi_monthly) as grouped bars;
5. the lifecycle trend (marts.customer_lifecycle_monthly): customers per stage and month.

The report shows numbers the marts define; the only arithmetic it does is to pool the ROI mart's
months (sum of attributed revenue / sum of spend, the mart's own ROAS definition).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import date

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

# The scorecard's KPIs in the order of the domain brief's targets table.
KPI_ORDER = [
    "cross_channel_identification_rate",
    "avg_touches_per_customer",
    "campaign_conversion_rate",
    "repurchase_rate",
    "marketing_waste_rate",
    "brand_consistency_rate",
    "data_accuracy",
]
RING_STAGES = ["acquisition", "conversion", "purchase", "retention", "activity", "referral"]
RING_LABELS = {
    "acquisition": "Acquisition 引流",
    "conversion": "Conversion 转化",
    "purchase": "Purchase 成交",
    "retention": "Retention 留存",
    "activity": "Activity 活跃",
    "referral": "Referral 裂变",
}
LIFECYCLE_STAGES = ["prospect", "new", "active", "dormant", "churned"]
ATTRIBUTION_MODELS = [
    "first_touch",
    "last_touch",
    "linear",
    "time_decay",
    "position_based",
    "markov",
]
TOP_PATHS = 10
PATH_TRANSFORM = "deduplicated"
PATH_SEPARATOR = " > "
COLOURS = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d"]
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
SPARK_CONFIG = {"displayModeBar": False, "staticPlot": True}

SCORECARD_SQL = """
    SELECT kpi, kpi_label, definition, source_model, value_unit, month_start, is_full_month, value,
        baseline_month, baseline_value, change_vs_baseline, target_kind, target, target_level,
        is_higher_better, is_on_target
    FROM marts.kpi_scorecard
    ORDER BY kpi, month_start
"""
DATA_END_SQL = """
    SELECT CAST(max(touched_at_local) AS DATE) FROM marts.fct_touchpoints
    WHERE customer_id IS NOT NULL
"""
VALUE_RING_SQL = """
    SELECT month_start, stage_number, ring_stage, customers, share_of_acquired,
        drop_off_from_previous_stage
    FROM marts.value_ring_monthly
    WHERE channel = 'all'
    ORDER BY month_start, stage_number
"""
PATHS_SQL = f"""
    SELECT channel_path, journeys, converting_journeys, conversion_rate, revenue_cny,
        avg_days_to_convert
    FROM marts.journey_paths
    WHERE path_transform = '{PATH_TRANSFORM}' AND NOT is_direct AND converting_journeys > 0
    ORDER BY converting_journeys DESC, channel_path
    LIMIT {TOP_PATHS}
"""
ROI_SQL = """
    SELECT channel, attribution_model, sum(spend_cny) AS spend_cny,
        sum(attributed_revenue_cny) AS attributed_revenue_cny,
        sum(attributed_revenue_cny) / nullif(sum(spend_cny), 0) AS roas
    FROM marts.channel_roi_monthly
    GROUP BY channel, attribution_model
    HAVING sum(spend_cny) > 0
    ORDER BY channel, attribution_model
"""
LIFECYCLE_SQL = """
    SELECT month_start, lifecycle_stage, count(*) AS customers
    FROM marts.customer_lifecycle_monthly
    GROUP BY month_start, lifecycle_stage
    ORDER BY month_start, lifecycle_stage
"""


@dataclass(frozen=True)
class KpiHeadline:
    """A KPI's latest full month with a value, as the scorecard states it."""

    kpi: str
    kpi_label: str
    definition: str
    source_model: str
    value_unit: str
    month_start: date
    value: float
    baseline_month: date | None
    baseline_value: float | None
    change_vs_baseline: float | None
    target_kind: str
    target: float
    target_level: float | None
    is_on_target: bool | None


def _none_if_nan(value):
    if value is None:
        return None
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def _as_date(value) -> date | None:
    value = _none_if_nan(value)
    return None if value is None else pd.Timestamp(value).date()


def read_scorecard(conn) -> pd.DataFrame:
    return conn.execute(SCORECARD_SQL).df()


def latest_headlines(scorecard: pd.DataFrame) -> list[KpiHeadline]:
    """Each KPI's latest full month with a value (else its latest month with one)."""
    headlines = []
    rows = scorecard[scorecard["value"].notna()]
    order = {kpi: i for i, kpi in enumerate(KPI_ORDER)}
    for kpi, group in sorted(rows.groupby("kpi"), key=lambda g: order.get(g[0], len(order))):
        full = group[group["is_full_month"].fillna(False).astype(bool)]
        row = (full if len(full) else group).sort_values("month_start").iloc[-1]
        on_target = _none_if_nan(row["is_on_target"])
        headlines.append(
            KpiHeadline(
                kpi=kpi,
                kpi_label=row["kpi_label"],
                definition=row["definition"],
                source_model=row["source_model"],
                value_unit=row["value_unit"],
                month_start=_as_date(row["month_start"]),
                value=float(row["value"]),
                baseline_month=_as_date(row["baseline_month"]),
                baseline_value=_none_if_nan(row["baseline_value"]),
                change_vs_baseline=_none_if_nan(row["change_vs_baseline"]),
                target_kind=row["target_kind"],
                target=float(row["target"]),
                target_level=_none_if_nan(row["target_level"]),
                is_on_target=None if on_target is None else bool(on_target),
            )
        )
    return headlines


def headline_numbers(conn) -> dict:
    """Each KPI's latest full month's value, how many are on target (materialisation metadata)."""
    headlines = latest_headlines(read_scorecard(conn))
    return {
        "kpis": {h.kpi: h.value for h in headlines},
        "months": {h.kpi: h.month_start.isoformat() for h in headlines},
        "on_target": {h.kpi: h.is_on_target for h in headlines},
        "on_target_count": sum(1 for h in headlines if h.is_on_target),
        "kpi_count": len(headlines),
    }


# ---------- formatting


def format_value(value, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.1%}" if unit == "share" else f"{value:.2f}"


def format_target(h: KpiHeadline) -> str:
    if h.target_kind == "relative_change":
        level = format_value(h.target_level, h.value_unit)
        return f"{h.target:+.0%} vs baseline (→ {level})"
    symbol = {"at_least": "≥", "at_most": "≤", "more_than": ">"}[h.target_kind]
    return f"{symbol} {format_value(h.target, h.value_unit)}"


def _status(on_target: bool | None) -> str:
    if on_target is None:
        return '<span class="status unknown">n/a</span>'
    if on_target:
        return '<span class="status on">✔ on target</span>'
    return '<span class="status off">✘ off target</span>'


def _month(value: date | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m")


def _figure_html(fig: go.Figure, div_id: str, config: dict | None = None) -> str:
    return fig.to_html(
        full_html=False, include_plotlyjs=False, config=config or PLOT_CONFIG, div_id=div_id
    )


# ---------- sections


def _sparkline(history: pd.DataFrame, h: KpiHeadline) -> go.Figure:
    history = history.sort_values("month_start")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=history["month_start"],
            y=history["value"],
            mode="lines+markers",
            line={"color": COLOURS[0], "width": 2},
            marker={"size": 5},
            name="value",
            hovertemplate="%{x|%Y-%m}: %{y:.3f}<extra></extra>",
        )
    )
    if h.target_level is not None:
        fig.add_hline(y=h.target_level, line={"color": "#dc2626", "dash": "dot", "width": 1})
    fig.update_layout(
        height=60,
        width=220,
        margin={"l": 2, "r": 2, "t": 2, "b": 2},
        showlegend=False,
        xaxis={"visible": False},
        yaxis={"visible": False},
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
    )
    return fig


def scorecard_section(scorecard: pd.DataFrame) -> str:
    headlines = latest_headlines(scorecard)
    on_target = sum(1 for h in headlines if h.is_on_target)
    rows = []
    for h in headlines:
        history = scorecard[(scorecard["kpi"] == h.kpi) & scorecard["value"].notna()]
        change = "–" if h.change_vs_baseline is None else f"{h.change_vs_baseline:+.1%}"
        spark = _figure_html(_sparkline(history, h), f"spark-{h.kpi}", SPARK_CONFIG)
        rows.append(
            f"""
        <tr data-kpi="{html.escape(h.kpi)}">
          <td><div class="kpi">{html.escape(h.kpi_label)}</div>
              <div class="definition">{html.escape(h.definition)}
                <br><code>{html.escape(h.source_model)}</code></div></td>
          <td>{_month(h.month_start)}</td>
          <td class="value">{format_value(h.value, h.value_unit)}</td>
          <td>{format_value(h.baseline_value, h.value_unit)}<br>
              <span class="small">{_month(h.baseline_month)}</span></td>
          <td>{change}</td>
          <td>{html.escape(format_target(h))}</td>
          <td>{_status(h.is_on_target)}</td>
          <td class="spark">{spark}</td>
        </tr>"""
        )
    return f"""
    <section id="kpi-scorecard">
      <h2>KPI scorecard <span class="zh">指标计分卡</span></h2>
      <p class="lead"><strong>{on_target} of {len(headlines)}</strong> KPIs on target in their
        latest full month. Change is against the KPI's baseline (its first month with a value);
        the trend line shows every month, the dotted line the target level.</p>
      <table class="scorecard">
        <thead><tr><th>KPI</th><th>Month</th><th>Value</th><th>Baseline</th>
          <th>Change</th><th>Target</th><th>Status</th><th>Trend</th></tr></thead>
        <tbody>{"".join(rows)}
        </tbody>
      </table>
    </section>"""


def latest_full_month(months: pd.Series, data_end: date | None) -> date | None:
    """The latest month that ends on or before the data's last day (else the latest month)."""
    candidates = sorted({pd.Timestamp(m).date() for m in months.dropna()})
    if not candidates:
        return None
    if data_end is None:
        return candidates[-1]
    full = [m for m in candidates if (pd.Timestamp(m) + pd.offsets.MonthEnd(0)).date() <= data_end]
    return full[-1] if full else candidates[-1]


def value_ring_section(ring: pd.DataFrame, data_end: date | None) -> str:
    month = latest_full_month(ring["month_start"], data_end)
    if month is None:
        return _empty_section("value-ring", "Value ring", "No value-ring rows.")
    cohort = ring[ring["month_start"].map(lambda m: pd.Timestamp(m).date()) == month]
    cohort = cohort.set_index("ring_stage").reindex(RING_STAGES).dropna(subset=["customers"])
    fig = go.Figure(
        go.Funnel(
            y=[RING_LABELS[s] for s in cohort.index],
            x=cohort["customers"].astype(int),
            textinfo="value+percent initial+percent previous",
            marker={"color": COLOURS[: len(cohort)]},
        )
    )
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10}, plot_bgcolor="white")
    end = "–" if data_end is None else data_end.isoformat()
    return f"""
    <section id="value-ring">
      <h2>Value ring <span class="zh">全渠道经营环</span></h2>
      <p class="lead">Customers acquired in <strong>{month:%Y-%m}</strong> (all channels) and how
        many went on to each stage by the data's last day ({end}). Each stage requires the
        ones before.</p>
      {_figure_html(fig, "value-ring-funnel")}
    </section>"""


def sankey_figure(paths: pd.DataFrame) -> go.Figure:
    """Steps as columns: node (step, channel); every path ends in a 'purchase' node."""
    nodes: dict[tuple[int, str], int] = {}
    sources, targets, values = [], [], []

    def node(step: int, label: str) -> int:
        return nodes.setdefault((step, label), len(nodes))

    end = node(10_000, "purchase 成交")
    for path, count in zip(paths["channel_path"], paths["converting_journeys"], strict=True):
        steps = path.split(PATH_SEPARATOR)
        ids = [node(i, channel) for i, channel in enumerate(steps)] + [end]
        for a, b in zip(ids, ids[1:], strict=False):
            sources.append(a)
            targets.append(b)
            values.append(int(count))
    labels = [label for (_, label) in sorted(nodes, key=nodes.get)]
    palette = {label: COLOURS[i % len(COLOURS)] for i, label in enumerate(sorted(set(labels)))}
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "pad": 14,
                "thickness": 16,
                "color": [palette[label] for label in labels],
            },
            link={
                "source": sources,
                "target": targets,
                "value": values,
                "color": [_translucent(palette[labels[i]]) for i in sources],
            },
        )
    )
    fig.update_layout(height=460, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


def _translucent(colour: str, alpha: float = 0.35) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def paths_section(paths: pd.DataFrame) -> str:
    if paths.empty:
        return _empty_section("top-paths", "Top converting paths", "No converting paths.")
    rows = "".join(
        f"""<tr><td>{html.escape(r.channel_path)}</td><td>{int(r.converting_journeys):,}</td>
          <td>{int(r.journeys):,}</td><td>{r.conversion_rate:.1%}</td>
          <td>{r.revenue_cny:,.0f}</td></tr>"""
        for r in paths.itertuples()
    )
    return f"""
    <section id="top-paths">
      <h2>Top converting paths <span class="zh">跨渠道行为轨迹</span></h2>
      <p class="lead">The {len(paths)} paths with the most converting journeys (touched journeys,
        consecutive repeats of a channel removed), step by step to the purchase.</p>
      {_figure_html(sankey_figure(paths), "top-paths-sankey")}
      <table class="paths"><thead><tr><th>Path</th><th>Converting journeys</th>
        <th>All journeys</th><th>Conversion rate</th><th>Revenue (CNY)</th></tr></thead>
        <tbody>{rows}</tbody></table>
    </section>"""


def roi_section(roi: pd.DataFrame) -> str:
    if roi.empty:
        return _empty_section("channel-roi", "ROI by channel", "No marketing spend.")
    fig = go.Figure()
    models = [m for m in ATTRIBUTION_MODELS if m in set(roi["attribution_model"])]
    for i, model in enumerate(models):
        part = roi[roi["attribution_model"] == model]
        fig.add_trace(
            go.Bar(
                x=part["channel"],
                y=part["roas"],
                name=model,
                marker={"color": COLOURS[i % len(COLOURS)]},
                hovertemplate="%{x}, " + model + ": ROAS %{y:.2f}<extra></extra>",
            )
        )
    fig.add_hline(y=1, line={"color": "#6b7280", "dash": "dash", "width": 1})
    fig.update_layout(
        barmode="group",
        height=420,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"title": "ROAS (attributed revenue / spend)"},
        legend={"orientation": "h", "y": -0.15},
    )
    return f"""
    <section id="channel-roi">
      <h2>ROI by channel and attribution model <span class="zh">渠道ROI</span></h2>
      <p class="lead">ROAS over all months of channel_roi_monthly (sum of attributed revenue /
        sum of spend), one bar per attribution model; the dashed line is break-even.</p>
      {_figure_html(fig, "channel-roi-bars")}
    </section>"""


def lifecycle_section(lifecycle: pd.DataFrame) -> str:
    if lifecycle.empty:
        return _empty_section("lifecycle", "Lifecycle trend", "No lifecycle rows.")
    pivot = (
        lifecycle.pivot_table(
            index="month_start", columns="lifecycle_stage", values="customers", aggfunc="sum"
        )
        .reindex(columns=LIFECYCLE_STAGES)
        .fillna(0)
        .sort_index()
    )
    fig = go.Figure()
    for i, stage in enumerate(LIFECYCLE_STAGES):
        fig.add_trace(
            go.Scatter(
                x=pivot.index,
                y=pivot[stage],
                name=stage,
                stackgroup="lifecycle",
                mode="lines",
                line={"color": COLOURS[i % len(COLOURS)]},
            )
        )
    fig.update_layout(
        height=400,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"title": "customers"},
        xaxis={"tickformat": "%Y-%m", "dtick": "M1"},
        legend={"orientation": "h", "y": -0.15},
    )
    return f"""
    <section id="lifecycle">
      <h2>Lifecycle trend <span class="zh">用户生命周期分层</span></h2>
      <p class="lead">Customers per lifecycle stage at each month's end
        (customer_lifecycle_monthly).</p>
      {_figure_html(fig, "lifecycle-area")}
    </section>"""


def _empty_section(section_id: str, title: str, message: str) -> str:
    return f'<section id="{section_id}"><h2>{title}</h2><p>{message}</p></section>'


STYLE = """
  body { font-family: -apple-system, "Segoe UI", "Noto Sans CJK SC", "PingFang SC", sans-serif;
         margin: 0; background: #f8fafc; color: #0f172a; }
  header { background: #0f172a; color: #f8fafc; padding: 20px 32px; }
  header h1 { margin: 0 0 4px 0; font-size: 24px; }
  header p { margin: 0; color: #cbd5e1; }
  main { padding: 8px 32px 32px 32px; max-width: 1340px; }
  section { background: #fff; border: 1px solid #e2e8f0; border-radius: 8px; padding: 12px 20px;
            margin-top: 20px; }
  h2 { font-size: 19px; margin: 6px 0; } .zh { color: #64748b; font-weight: normal; }
  .lead { color: #334155; margin: 4px 0 10px 0; font-size: 14px; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e2e8f0;
           vertical-align: middle; }
  th { background: #f1f5f9; }
  .kpi { font-weight: 600; } .definition { color: #64748b; font-size: 11px; max-width: 520px; }
  .value { font-size: 17px; font-weight: 600; } .small { color: #64748b; font-size: 11px; }
  .status { padding: 2px 8px; border-radius: 10px; white-space: nowrap; font-size: 12px; }
  .status.on { background: #dcfce7; color: #166534; }
  .status.off { background: #fee2e2; color: #991b1b; }
  .status.unknown { background: #e2e8f0; color: #334155; }
  td.spark { width: 224px; }
  code { font-size: 11px; color: #475569; }
"""


def render_report(conn) -> str:
    """The whole report as one self-contained HTML page, from the marts behind `conn`."""
    scorecard = read_scorecard(conn)
    data_end = _as_date(conn.execute(DATA_END_SQL).fetchone()[0])
    ring = conn.execute(VALUE_RING_SQL).df()
    paths = conn.execute(PATHS_SQL).df()
    roi = conn.execute(ROI_SQL).df()
    lifecycle = conn.execute(LIFECYCLE_SQL).df()
    sections = [
        scorecard_section(scorecard),
        value_ring_section(ring, data_end),
        paths_section(paths),
        roi_section(roi),
        lifecycle_section(lifecycle),
    ]
    period = "–" if data_end is None else data_end.isoformat()
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Omnichannel report</title>
<style>{STYLE}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<header>
  <h1>Omnichannel customer report <span class="zh">全渠道经营报告</span></h1>
  <p>Data to {period}. Every number comes from the warehouse's marts; definitions are in the
    dbt docs and in each KPI's row.</p>
</header>
<main>
{"".join(sections)}
</main>
</body>
</html>
"""
