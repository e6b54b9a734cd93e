"""One blocking Dagster asset check per Great Expectations suite in `expectations/`.

A check named `gx_<layer>__<table>` (e.g. `gx_marts__fct_orders`) is attached to the asset in
its suite's `meta.asset_key`. Raw suites (`gx_raw__<source>`) are attached to the staging model
that reads the source: the raw assets are daily-partitioned and loaded by a separate job, while
the staging models are unpartitioned and run in the same build as the marts, so a failing raw
suite blocks everything downstream of staging.

Each check reads only the columns its expectations need (and, for a suite with a `batch_column`,
only the rows not yet validated; see gx_suites.py) through the `warehouse` resource,
validates them with GX (file context under reports/, which also renders the Data Docs), appends
one row per expectation to audit.quality_results, and returns the per-expectation figures as
metadata (rows checked, unexpected %, sample failing values).
"""

from collections.abc import Iterable

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetKey,
    MetadataValue,
    asset_check,
)
from dagster_duckdb import DuckDBResource

from orchestration.quality.gx_suites import (
    SuiteFile,
    batch_end,
    data_docs_dir,
    describe_failures,
    load_suites,
    read_batch,
    read_frame,
    split_by_level,
    suite_parameters,
    summarise,
    table_shape,
    validate_and_document,
    validate_frame,
)
from orchestration.quality.results import previous_row_count, record_results, validated_through


def run_suite(conn, suite: SuiteFile, run_id: str) -> tuple[bool, list[dict], int, int]:
    """Validate the suite's table (or its new batch); returns (passed, result rows, rows
    validated row by row, rows in the table)."""
    parameters = suite_parameters(suite, previous_row_count(conn, suite.name, run_id))
    if suite.batch_column:
        return run_suite_by_batch(conn, suite, run_id, parameters)
    frame = read_frame(conn, suite)
    result = validate_and_document(frame, suite, parameters)
    rows = summarise(result, len(frame))
    record_results(conn, run_id, suite.name, suite.table, rows)
    return bool(result.success), rows, len(frame), len(frame)


def run_suite_by_batch(
    conn, suite: SuiteFile, run_id: str, parameters: dict
) -> tuple[bool, list[dict], int, int]:
    """Row-level expectations on the rows not yet validated, table-level ones on the table."""
    through = batch_end(conn, suite)
    batch_from = validated_through(conn, suite.name, run_id)
    frame = read_frame(conn, suite) if batch_from is None else read_batch(conn, suite, batch_from)
    row_level, table_level = split_by_level(suite.suite)
    shape = table_shape(conn, suite)
    results = [validate_frame(shape, table_level, parameters)]
    rows = summarise(results[0], len(shape))
    # Nothing new since the last passing validation: its Data Docs page stays the latest.
    if batch_from is None or not frame.empty:
        results.append(validate_and_document(frame, suite, parameters, expectations=row_level))
        rows = summarise(results[1], len(frame)) + rows
    passed = all(result.success for result in results)
    record_results(
        conn, run_id, suite.name, suite.table, rows, batch_through=through if passed else None
    )
    return passed, rows, len(frame), len(shape)


def check_result(suite: SuiteFile, passed: bool, rows: list[dict], row_count: int, table_rows: int):
    failures = describe_failures(rows)
    scope = (
        f"{row_count:,} rows"
        if row_count == table_rows
        else f"{row_count:,} new rows (row count: the table's {table_rows:,})"
    )
    description = (
        f"{suite.table}: {len(rows)} expectations passed on {scope}"
        if passed
        else f"{suite.table}: {len(failures)} of {len(rows)} expectations failed: "
        + "; ".join(failures[:5])
    )
    metadata = {
        "table": suite.table,
        "rows": row_count,
        "table_rows": table_rows,
        "expectations": len(rows),
        "expectations_failed": len(failures),
        "data_docs": MetadataValue.path(str(data_docs_dir() / "index.html")),
    }
    for i, r in enumerate(rows):
        label = f"{i:02d} {r['expectation'].removeprefix('expect_')}" + (
            f" [{r['column']}]" if r["column"] else ""
        )
        metadata[label] = MetadataValue.json(
            {
                "success": r["success"],
                "rows_checked": r["rows_checked"],
                "unexpected_count": r["unexpected_count"],
                "unexpected_percent": r["unexpected_percent"],
                "observed_value": r["observed_value"],
                "sample_failing": r["sample_failing"],
            }
        )
    return AssetCheckResult(
        passed=passed,
        severity=AssetCheckSeverity.ERROR,
        description=description[:2000],
        metadata=metadata,
    )


def build_gx_check(suite: SuiteFile) -> AssetChecksDefinition:
    @asset_check(
        asset=AssetKey(suite.asset_key),
        name=suite.check_name,
        blocking=True,
        # A foreign-key check runs only once the parent table it looks keys up in is built.
        additional_deps=[AssetKey(t) for t in suite.referenced_tables],
        description=f"Great Expectations suite {suite.name} "
        f"({suite.path.relative_to(suite.path.parents[1])}) on {suite.table}.",
        metadata={"suite": suite.name, "table": suite.table},
    )
    def _gx_check(context: AssetCheckExecutionContext, warehouse: DuckDBResource):
        with warehouse.get_connection() as conn:
            passed, rows, row_count, table_rows = run_suite(conn, suite, context.run.run_id)
        return check_result(suite, passed, rows, row_count, table_rows)

    return _gx_check


def build_quality_checks(
    suites: Iterable[SuiteFile] | None = None, asset_keys: Iterable[AssetKey] | None = None
) -> list[AssetChecksDefinition]:
    """A check per suite; with `asset_keys`, only suites whose asset is among them."""
    suites = load_suites() if suites is None else list(suites)
    if asset_keys is not None:
        keys = set(asset_keys)
        suites = [s for s in suites if AssetKey(s.asset_key) in keys]
    return [build_gx_check(s) for s in suites]


quality_checks = build_quality_checks()
