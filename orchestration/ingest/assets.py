"""One daily-partitioned Dagster asset per landing source, each with a blocking validity check."""

import warnings

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    BetaWarning,
    MaterializeResult,
    MetadataValue,
    asset,
)
from dagster_duckdb import DuckDBResource

from orchestration import settings
from orchestration.ingest.contracts import SOURCES, Source
from orchestration.ingest.loader import as_records, load_partitions, summarise
from orchestration.ingest.partitions import export_day_partitions
from orchestration.quality.accuracy import below_target, day_below_target

VALIDITY_CHECK = "valid_row_share"
# Single-run backfills (one run loads a range of days) are what make a first load fast.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")


def raw_asset_key(source_name: str) -> AssetKey:
    return AssetKey(["raw", source_name])


def partition_validity(conn, source: str, days: list[str]) -> list[dict]:
    """Per export day: rows loaded and quarantined by the current version of every file."""
    rows = conn.execute(
        """
        SELECT strftime(partition_day, '%Y-%m-%d') AS day,
               sum(rows_loaded) AS loaded, sum(rows_quarantined) AS quarantined
        FROM audit.load_log
        WHERE is_current AND source = ? AND strftime(partition_day, '%Y-%m-%d') IN ?
        GROUP BY 1 ORDER BY 1
        """,
        [source, days],
    ).fetchall()
    return [
        {
            "day": d,
            "loaded": int(ld),
            "quarantined": int(q),
            "valid_share": round(ld / (ld + q), 5) if ld + q else 1.0,
        }
        for d, ld, q in rows
    ]


def top_reasons(conn, source: str, day: str, limit: int = 3) -> list[tuple]:
    return conn.execute(
        """
        SELECT reason, count(*) AS n, min(file_path || ':' || coalesce(line, 0)) AS example
        FROM audit.quarantine WHERE source = ? AND partition_day = ?
        GROUP BY reason ORDER BY n DESC LIMIT ?
        """,
        [source, day, limit],
    ).fetchall()


def validity_check_result(conn, source: Source, days: list[str]) -> AssetCheckResult:
    """Fails when a day, or the run's days together, are confidently below the accuracy target
    (see orchestration.quality.accuracy)."""
    per_day = partition_validity(conn, source.name, days)
    target = settings.ACCURACY_TARGET
    failing = [
        d
        for d in per_day
        if day_below_target(d["loaded"], d["loaded"] + d["quarantined"], target, len(per_day))
    ]
    loaded = sum(d["loaded"] for d in per_day)
    total = loaded + sum(d["quarantined"] for d in per_day)
    run_share = loaded / total if total else 1.0
    run_failing = below_target(loaded, total, target)
    description = f"{source.name}: {run_share:.2%} of {total:,} rows valid (target {target:.0%})"
    if failing or run_failing:
        worst = min(failing or per_day, key=lambda d: d["valid_share"])
        reasons = top_reasons(conn, source.name, worst["day"])
        description = (
            f"{source.name} {worst['day']}: only {worst['valid_share']:.2%} of "
            f"{worst['loaded'] + worst['quarantined']:,} rows valid (target {target:.0%}, "
            f"run {run_share:.2%}); top reasons: "
            + "; ".join(f"{r} x{n} e.g. {ex}" for r, n, ex in reasons)
        )
    return AssetCheckResult(
        check_name=VALIDITY_CHECK,
        passed=not (failing or run_failing),
        severity=AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "rows_checked": total,
            "valid_share": round(run_share, 5),
            "partitions_checked": len(per_day),
            "partitions_failing": [d["day"] for d in failing],
            "min_valid_share": min((d["valid_share"] for d in per_day), default=1.0),
        },
    )


def build_raw_asset(source: Source) -> AssetsDefinition:
    key = raw_asset_key(source.name)

    @asset(
        key=key,
        description=source.description,
        group_name="raw",
        kinds={"duckdb"},
        partitions_def=export_day_partitions,
        backfill_policy=BackfillPolicy.single_run(),
        deps=[raw_asset_key(d) for d in source.depends_on],
        check_specs=[
            AssetCheckSpec(
                VALIDITY_CHECK,
                asset=key,
                blocking=True,
                description=f"Each export day (and the run's days together) has at least "
                f"{settings.ACCURACY_TARGET:.0%} valid rows, unless the shortfall is within "
                "sampling noise (95% Wilson bound); otherwise downstream assets are blocked.",
            )
        ],
        metadata={"natural_key": list(source.natural_key), "format": source.format},
    )
    def _raw_source(context: AssetExecutionContext, warehouse: DuckDBResource) -> MaterializeResult:
        days = context.partition_keys
        with warehouse.get_connection() as conn:
            results = load_partitions(conn, source, settings.LANDING_PATH, days)
            check = validity_check_result(conn, source, days)
        totals = summarise(results)
        context.log.info(f"{source.name} {days[0]}..{days[-1]}: {totals}")
        return MaterializeResult(
            metadata={
                "partitions": len(days),
                "rows_in": totals["rows_read"],
                "rows_loaded": totals["rows_loaded"],
                "rows_quarantined": totals["rows_quarantined"],
                "rows_rejected": totals["rows_rejected"],
                "files": totals["files"],
                "files_by_status": totals["files_by_status"],
                "encodings": totals["encodings"],
                "extra_columns": totals["extra_columns"],
                "duration_s": round(sum(r.duration_s for r in results), 3),
                "file_loads": MetadataValue.json(as_records(results)[:200]),
            },
            check_results=[check],
        )

    return _raw_source


raw_assets = [build_raw_asset(s) for s in SOURCES]
