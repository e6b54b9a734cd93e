"""`make run`: materialise every asset over every export day in the landing zone, then summarise.

Runs go through the Dagster instance in DAGSTER_HOME, so they appear in the UI (`make dev`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb
from dagster import AssetCheckEvaluation, AssetCheckSeverity, DagsterEventType, DagsterInstance

from orchestration import settings
from orchestration.ingest.contracts import SOURCES


def landing_days() -> list[str]:
    days = {
        p.name
        for s in SOURCES
        if (settings.LANDING_PATH / s.name).is_dir()
        for p in (settings.LANDING_PATH / s.name).iterdir()
        if p.is_dir()
    }
    return sorted(days)


def check_outcomes(result) -> list[tuple[str, str, str]]:
    """(asset, check, outcome) with outcome passed, failed or warning (a failed WARN check)."""
    outcomes = []
    for event in result.all_events:
        if event.event_type != DagsterEventType.ASSET_CHECK_EVALUATION:
            continue
        evaluation: AssetCheckEvaluation = event.event_specific_data
        if evaluation.passed:
            outcome = "passed"
        elif evaluation.severity == AssetCheckSeverity.WARN:
            outcome = "warning"
        else:
            outcome = "failed"
        outcomes.append((evaluation.asset_key.to_user_string(), evaluation.check_name, outcome))
    return outcomes


def _execution_seconds(metadata) -> float | None:
    """dagster-dbt's per-node "Execution Duration" metadata: the model's or test's own time."""
    value = metadata.get("Execution Duration")
    return None if value is None else float(value.value)


def step_timings(result, instance: DagsterInstance) -> list[dict]:
    """Each step of a run (for `make bench`): its wall time and span (epoch seconds), the assets
    it materialised, and the execution seconds dbt reported for each model and test in it."""
    assets: dict[str, list[str]] = {}
    nodes: dict[str, dict[str, float]] = {}
    for event in result.all_events:
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.event_specific_data.materialization
            key = materialization.asset_key.to_user_string()
            assets.setdefault(event.step_key, []).append(key)
            seconds = _execution_seconds(materialization.metadata)
        elif event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            key = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            seconds = _execution_seconds(evaluation.metadata)
        else:
            continue
        if seconds is not None:
            nodes.setdefault(event.step_key, {})[key] = seconds
    return [
        {
            "step": stats.step_key,
            "seconds": round((stats.end_time or stats.start_time) - stats.start_time, 3),
            "started_at": stats.start_time,
            "ended_at": stats.end_time or stats.start_time,
            "assets": assets.get(stats.step_key, []),
            "node_seconds": nodes.get(stats.step_key, {}),
        }
        for stats in instance.get_run_step_stats(result.run_id)
        if stats.start_time is not None
    ]


def table_counts(path) -> list[tuple[str, str, int]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = conn.execute(
            "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
            "ORDER BY schema_name, table_name"
        ).fetchall()
        return [
            (schema, name, conn.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()[0])
            for schema, name, _ in tables
        ]


def print_summary(counts, outcomes, elapsed: float) -> None:
    print("\nTables built (schema.table: rows)")
    for schema, name, n in counts:
        print(f"  {schema}.{name:<40} {n:>12,}")
    count = {kind: sum(o[2] == kind for o in outcomes) for kind in ("passed", "failed", "warning")}
    print(
        f"\nChecks: {count['passed']} passed, {count['failed']} failed, {count['warning']} warnings"
    )
    for asset_key, check, outcome in outcomes:
        if outcome != "passed":
            print(f"  {outcome.upper().replace('WARNING', 'WARN')} {asset_key} :: {check}")
    print(f"\nElapsed: {elapsed:.1f} s")
    print(f"Published warehouse (analysts): {settings.PUBLISHED_WAREHOUSE_PATH}")
    print(f"Build copy (the pipeline writes): {settings.WAREHOUSE_PATH}")
    print(
        "Query the marts read-only, e.g.:\n"
        '  .venv/bin/python -c "import duckdb; '
        f"c = duckdb.connect('{settings.PUBLISHED_WAREHOUSE_PATH}', read_only=True); "
        "print(c.sql('select * from marts.kpi_scorecard'))\""
    )


def full_refresh_config(job) -> dict:
    """Run config setting full_refresh on every step that builds incrementally or keeps state
    from the previous build: the steps the dbt assets are split into, the canonicalisation of
    identifiers, the erasure scan and the Markov removal effects in force."""
    steps = [
        name
        for name in job.graph.node_names()
        if name.startswith("dbt_models")
        or name
        in (
            "identity__identifier_canonical_forms",
            "privacy__erasure",
            "predictions__markov_channel_attribution",
        )
    ]
    return {"ops": {name: {"config": {"full_refresh": True}} for name in steps}}


def run_all_days(defs, instance, days: list[str], full_refresh: bool) -> list:
    """Ingest every export day of the landing zone, then build: `make run` on any warehouse."""
    print(f"Ingesting {len(days)} export days {days[0]}..{days[-1]} from {settings.LANDING_PATH}")
    ingest = defs.resolve_job_def("ingest_landing").execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": days[0],
            "dagster/asset_partition_range_end": days[-1],
        },
        raise_on_error=False,
    )
    if not ingest.success:
        return [("ingest", ingest)]
    print("Building staging, identity and marts")
    job = defs.resolve_job_def("build_warehouse")
    build = job.execute_in_process(
        instance=instance,
        run_config=full_refresh_config(job) if full_refresh else None,
        raise_on_error=False,
    )
    return [("ingest", ingest), ("build", build)]


def run_night(defs, instance, day: str, full_refresh: bool):
    """What the nightly schedule runs: the `nightly` job for one export day."""
    print(f"Nightly run for export day {day}")
    job = defs.resolve_job_def("nightly")
    return job.execute_in_process(
        instance=instance,
        partition_key=day,
        run_config=full_refresh_config(job) if full_refresh else None,
        raise_on_error=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timings", help="write each step's wall time to this JSON file")
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental dbt models from scratch instead of catching up",
    )
    parser.add_argument(
        "--night",
        metavar="DAY",
        help="run the nightly job for one export day (YYYY-MM-DD), as the schedule does",
    )
    args = parser.parse_args(argv)
    from orchestration.definitions import defs  # after settings, so dbt sees WAREHOUSE_PATH

    started = time.perf_counter()
    instance = DagsterInstance.get()
    if args.night:
        runs = [("nightly", run_night(defs, instance, args.night, args.full_refresh))]
    else:
        days = landing_days()
        if not days:
            print(f"No export days in {settings.LANDING_PATH}; run `make sample` first.")
            return 1
        runs = run_all_days(defs, instance, days, args.full_refresh)
    outcomes = [o for _, run in runs for o in check_outcomes(run)]
    # A failed ingest stops before the build: success means every run passed, the last a build.
    ok = runs[-1][0] != "ingest" and all(run.success for _, run in runs)
    if args.timings:
        timings = {name: step_timings(run, instance) for name, run in runs}
        Path(args.timings).write_text(json.dumps(timings, indent=2))
    # On success the summary describes what analysts now see; on failure, the unpublished build.
    shown = settings.PUBLISHED_WAREHOUSE_PATH if ok else settings.WAREHOUSE_PATH
    print_summary(table_counts(shown), outcomes, time.perf_counter() - started)
    print(
        "\nRun " + ("succeeded." if ok else "FAILED: see the Dagster UI (`make dev`) for details.")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
