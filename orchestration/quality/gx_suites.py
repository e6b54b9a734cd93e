"""Great Expectations 1.x suites: load them from `expectations/`, read a table, validate, summarise.

One suite per table, stored as GX's own suite JSON (`expectations/<layer>/<table>.json`). GX's SQL
datasource does not work against DuckDB, so a suite is validated on a pandas DataFrame read through
the warehouse connection, selecting only the columns its expectations name.

Beyond GX's JSON, a suite's `meta` says where its rows come from and how runtime values resolve:

- `table`: the relation read (`raw.ecom_orders`, `marts.fct_orders`).
- `asset_key`: the Dagster asset the suite's check is attached to (see checks.py).
- `derived_columns`: `{name: SQL expression over the table aliased t}`, computed by DuckDB and
  validated like any column. This is how cross-table and relative rules are written:
  * referential integrity: `CASE WHEN t.customer_id IS NOT NULL AND t.customer_id NOT IN (SELECT
    customer_id FROM marts.dim_customers) THEN t.customer_id END AS customer_id__orphan`, with
    `expect_column_values_to_be_null` on it. The unexpected values are the orphan keys themselves,
    so samples name them; GX has no cross-table expectation on a DataFrame, and passing the parent's
    full key list as a `value_set` would copy it into every stored result and Data Docs page.
  * freshness: `date_diff('day', CAST(t.<ts> AS DATE), {latest_export_day})`, with
    `expect_column_min_to_be_between(max_value=N)`: the newest row is at most N days older than the
    data's latest export day (`audit.load_log`), never wall-clock, so an old sample world passes.
- `volume_min_share` (default VOLUME_MIN_SHARE): the table's row count must be at least this share
  of the count the previous run recorded in `audit.quality_results`; the suite's
  `expect_table_row_count_to_be_between(min_value={"$PARAMETER": "volume_floor"})` receives it as a
  GX suite parameter (0 on the first run).
- `batch_column` (optional): the suite validates its table by batch, like an incremental model
  builds it. Row-level expectations read only the rows whose `batch_column` is after the newest
  value the suite's last passing validation covered (`audit.quality_results.batch_through`): raw
  tables by `_loaded_at`, incremental dbt models by `processed_through_utc`. Older rows were
  validated when they arrived and have not changed since: a raw partition is replaced with new
  rows, an incremental model replaces a record's rows whole. Table-level expectations (the row
  count) still see the whole table. Not covered: values an erasure nulls in place, and a
  `--full-refresh` that finds no new change (its rows keep the stamp already validated); to
  validate a table whole again, delete its suite's rows from audit.quality_results. A
  uniqueness expectation is allowed only on the model's `unique_key`, which the model replaces
  rows by, so a unique batch keeps the table unique (tests/quality/test_gx_suites.py holds the
  suites to this).

Thresholds encode the 98% accuracy target: `mostly: 0.98` where a row-level rule tolerates noise,
exact (no `mostly`) where it must hold for every row, e.g. the grain of a mart.

`python -m orchestration.quality.gx_suites` (re)writes the raw and staging suites from the data
contract (orchestration/ingest/contracts.py); mart suites are written by hand.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

import great_expectations as gx  # noqa: E402
import great_expectations.execution_engine.pandas_execution_engine as gx_pandas_engine  # noqa: E402
import great_expectations.render.view.view as gx_view  # noqa: E402
import jinja2  # noqa: E402
import jinja2.bccache  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
from great_expectations.core.expectation_validation_result import (  # noqa: E402
    ExpectationSuiteValidationResult,
)
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.data_context.types.resource_identifiers import (  # noqa: E402
    ExpectationSuiteIdentifier,
)
from great_expectations.expectations.expectation_configuration import (  # noqa: E402
    ExpectationConfiguration,
)

from orchestration import settings  # noqa: E402
from orchestration.ingest.contracts import SOURCES, Source  # noqa: E402

logging.getLogger("great_expectations").setLevel(logging.WARNING)

SUITES_DIR = settings.REPO_ROOT / "expectations"
MOSTLY = settings.ACCURACY_TARGET
VOLUME_MIN_SHARE = 0.9
SAMPLE_SIZE = 10
LATEST_EXPORT_DAY_SQL = (
    "(SELECT max(partition_day) FROM audit.load_log WHERE is_current AND rows_loaded > 0)"
)
DATA_SOURCE = "warehouse_frames"
SITE_NAME = "local_site"


def data_docs_dir() -> Path:
    """Where Data Docs are rendered: next to the published warehouse, read at call time so that
    paths overridden by environment (tests) are honoured."""
    return settings.PUBLISHED_WAREHOUSE_PATH.parent / "reports" / "data_docs"


def gx_project_dir() -> Path:
    """The file-based GX context whose validation results the Data Docs render."""
    return settings.PUBLISHED_WAREHOUSE_PATH.parent / "reports" / "gx_project"


# ---------------------------------------------------------------- suites


@dataclass(frozen=True)
class SuiteFile:
    path: Path
    suite: gx.ExpectationSuite

    @property
    def name(self) -> str:
        return self.suite.name

    @property
    def meta(self) -> dict:
        return dict(self.suite.meta or {})

    @property
    def table(self) -> str:
        return self.meta["table"]

    @property
    def asset_key(self) -> list[str]:
        return list(self.meta["asset_key"])

    @property
    def derived_columns(self) -> dict[str, str]:
        return dict(self.meta.get("derived_columns", {}))

    @property
    def referenced_tables(self) -> list[list[str]]:
        """Other tables the suite's derived columns read (the parents of its foreign keys)."""
        found = {
            (schema, table)
            for sql in self.derived_columns.values()
            for schema, table in re.findall(r"\bFROM\s+(\w+)\.(\w+)", sql, flags=re.IGNORECASE)
        }
        return [list(pair) for pair in sorted(found) if list(pair) != self.asset_key]

    @property
    def batch_column(self) -> str | None:
        return self.meta.get("batch_column")

    @property
    def volume_min_share(self) -> float:
        return float(self.meta.get("volume_min_share", VOLUME_MIN_SHARE))

    @property
    def check_name(self) -> str:
        return "gx_" + self.name.replace(".", "__")


def suite_from_dict(data: dict) -> gx.ExpectationSuite:
    expectations = [
        ExpectationConfiguration(
            type=e["type"], kwargs=e.get("kwargs", {}), meta=e.get("meta") or None
        ).to_domain_obj()
        for e in data.get("expectations", [])
    ]
    return gx.ExpectationSuite(
        name=data["name"], expectations=expectations, meta=data.get("meta") or {}
    )


def suite_to_dict(suite: gx.ExpectationSuite) -> dict:
    data = suite.to_json_dict()
    return {
        "name": data["name"],
        "meta": {
            k: v for k, v in data.get("meta", {}).items() if k != "great_expectations_version"
        },
        "expectations": [
            {
                "type": e["type"],
                "kwargs": e["kwargs"],
                **({"meta": e["meta"]} if e.get("meta") else {}),
            }
            for e in data["expectations"]
        ],
    }


def load_suite(path: Path) -> SuiteFile:
    return SuiteFile(path, suite_from_dict(json.loads(path.read_text(encoding="utf-8"))))


def load_suites(directory: Path = SUITES_DIR) -> list[SuiteFile]:
    return [load_suite(p) for p in sorted(directory.glob("*/*.json"))]


def expectation_columns(expectation) -> list[str]:
    kwargs = expectation.configuration.kwargs
    cols = []
    for key in ("column", "column_A", "column_B"):
        if kwargs.get(key):
            cols.append(kwargs[key])
    cols.extend(kwargs.get("column_list") or [])
    return cols


def needed_columns(suite: SuiteFile) -> list[str]:
    """Columns the expectations name, in first-use order."""
    seen: dict[str, None] = {}
    for expectation in suite.suite.expectations:
        for col in expectation_columns(expectation):
            seen.setdefault(col, None)
    return list(seen)


def is_table_level(expectation) -> bool:
    """Expectations on the table as a whole (its row count), not on its rows' values."""
    return expectation.configuration.type.startswith("expect_table_")


def split_by_level(suite: gx.ExpectationSuite) -> tuple[gx.ExpectationSuite, gx.ExpectationSuite]:
    """The suite's row-level and table-level expectations, as two suites of the same name."""
    row_level, table_level = [], []
    for expectation in suite.expectations:
        (table_level if is_table_level(expectation) else row_level).append(
            expectation.configuration.to_domain_obj()
        )
    return tuple(
        gx.ExpectationSuite(name=suite.name, expectations=group, meta=suite.meta)
        for group in (row_level, table_level)
    )


def select_sql(suite: SuiteFile, batch_from: bool = False) -> str:
    """The columns the suite's expectations name; with `batch_from`, only the rows of the batch
    that starts at the value bound to the query's one parameter."""
    derived = suite.derived_columns
    parts = []
    for col in needed_columns(suite):
        if col in derived:
            expr = derived[col].replace("{latest_export_day}", LATEST_EXPORT_DAY_SQL)
            parts.append(f'{expr} AS "{col}"')
        else:
            parts.append(f't."{col}"')
    # A suite of table-level expectations only still needs the rows counted.
    sql = f"SELECT {', '.join(parts) or '1 AS _row'} FROM {suite.table} AS t"
    return sql + (f' WHERE t."{suite.batch_column}" > ?' if batch_from else "")


def _frame(conn, sql: str, params: list | None = None) -> pd.DataFrame:
    """The query's rows as a DataFrame, through Arrow: DuckDB's own `.df()` converts strings one
    by one (8.5 s against 2 s for the 2.9M rows of fct_order_lines at 1M customers). Decimals
    become doubles, as `.df()` makes them: as Python Decimal objects GX checks them 4x slower."""
    with conn.cursor() as cursor:  # a relation of its own: conn may hold an unfetched result
        table = cursor.sql(sql, params=params).to_arrow_table()
    for i, field in enumerate(table.schema):
        if pa.types.is_decimal(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.float64()))
    return table.to_pandas()


def read_frame(conn, suite: SuiteFile) -> pd.DataFrame:
    return _frame(conn, select_sql(suite))


def read_batch(conn, suite: SuiteFile, batch_from) -> pd.DataFrame:
    return _frame(conn, select_sql(suite, batch_from=True), [batch_from])


def table_shape(conn, suite: SuiteFile) -> pd.DataFrame:
    """A frame with the table's row count and no columns, for the table-level expectations of a
    suite validated by batch: GX counts its rows without the table being read."""
    rows = conn.execute(f"SELECT count(*) FROM {suite.table}").fetchone()[0]
    return pd.DataFrame(index=pd.RangeIndex(rows))


def batch_end(conn, suite: SuiteFile):
    return conn.execute(f'SELECT max("{suite.batch_column}") FROM {suite.table}').fetchone()[0]


def suite_parameters(suite: SuiteFile, previous_rows: int | None) -> dict[str, Any]:
    floor = math.floor(previous_rows * suite.volume_min_share) if previous_rows else 0
    return {"volume_floor": floor}


# ---------------------------------------------------------------- validation


def _quiet(context) -> None:
    context.variables.progress_bars = ProgressBarsConfig(globally=False)


@cache
def _ephemeral_batch_definition():
    context = gx.get_context(mode="ephemeral")
    _quiet(context)
    asset = context.data_sources.add_pandas(DATA_SOURCE).add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole_frame")


def validate_frame(
    frame: pd.DataFrame, suite: gx.ExpectationSuite, parameters: dict | None = None
) -> ExpectationSuiteValidationResult:
    """Validate a DataFrame in an in-memory context: nothing stored, nothing sent anywhere."""
    batch = _ephemeral_batch_definition().get_batch(batch_parameters={"dataframe": frame})
    return batch.validate(suite, result_format="SUMMARY", expectation_parameters=parameters or {})


def file_context():
    """The file context under reports/: keeps the latest validation result per suite and builds
    the Data Docs site into data_docs_dir(). One per project directory and process: opening it
    parses its YAML and stores, about half a second, paid once a run instead of once a check."""
    return _file_context_at(str(gx_project_dir()), str(data_docs_dir()))


@cache
def _file_context_at(project: str, docs: str):
    Path(project).mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=project)
    _quiet(context)
    context.variables.analytics_enabled = False
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    sites = context.list_data_docs_sites()
    if sites.get(SITE_NAME, {}).get("store_backend") != site["store_backend"]:
        for name in list(sites):
            context.delete_data_docs_site(name)
        context.add_data_docs_site(SITE_NAME, site)
    return context


class _SharedTemplateBytecode(jinja2.BytecodeCache):
    """GX renders each Data Docs page with a new Jinja environment, which compiles the same
    templates again (about 18 a page, 1.2 s of a check's 3 s). Shared compiled templates, kept
    in memory for the process, make that a lookup; the rendered pages are the same."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_BYTECODE = _SharedTemplateBytecode()


class _EnvironmentWithSharedBytecode(jinja2.Environment):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, bytecode_cache=_TEMPLATE_BYTECODE, **kwargs)


# GX's Data Docs views make their environments from this module attribute
gx_view.Environment = _EnvironmentWithSharedBytecode

# GX fingerprints a pandas batch under this many bytes with an MD5 of the whole frame, twice per
# validation (the batch, then the validator's own): 10 of the 14 s fct_order_lines took at 1M
# customers. The fingerprint only labels the batch in the stored result; none is taken.
gx_pandas_engine.HASH_THRESHOLD = 0


def validate_and_document(
    frame: pd.DataFrame,
    suite_file: SuiteFile,
    parameters: dict | None = None,
    expectations: gx.ExpectationSuite | None = None,
) -> ExpectationSuiteValidationResult:
    """Validate through a ValidationDefinition of the file context, which stores the result
    (replacing the suite's previous one), then rebuild the Data Docs site. `expectations`: a
    part of the suite to validate instead of all of it (a batch's row-level expectations)."""
    context = file_context()
    source = context.data_sources.add_or_update_pandas(DATA_SOURCE)
    asset_name = suite_file.name
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_dataframe_asset(asset_name)
    try:
        batch_definition = asset.get_batch_definition("whole_frame")
    except KeyError:
        batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")
    suite = context.suites.add_or_update(
        suite_from_dict(suite_to_dict(expectations or suite_file.suite))
    )
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_file.name, data=batch_definition, suite=suite)
    )
    store = context.validation_results_store
    for key in _result_keys(store, suite_file.name):  # Data Docs show the latest result only
        store.remove_key(key)
    # GX files a result page under validations/<suite name split at dots>/<run>/<time>/.
    old_pages = data_docs_dir().joinpath("validations", *suite_file.name.split("."))
    shutil.rmtree(old_pages, ignore_errors=True)
    result = definition.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters or {},
        result_format="SUMMARY",
    )
    # Only this suite's pages and the index: a whole-site rebuild renders every suite's latest
    # result again, which made each of the ~40 checks of a run cost seconds.
    context.build_data_docs(
        site_names=[SITE_NAME],
        resource_identifiers=[
            ExpectationSuiteIdentifier(name=suite_file.name),
            *_result_keys(store, suite_file.name),
        ],
    )
    return result


def _result_keys(store, suite_name: str) -> list:
    return [k for k in store.list_keys() if k.expectation_suite_identifier.name == suite_name]


# ---------------------------------------------------------------- summaries


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT or value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _json_safe(value.item())
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def summarise(result: ExpectationSuiteValidationResult, row_count: int) -> list[dict]:
    """One row per expectation: rows checked, unexpected count and %, sample failing values."""
    rows = []
    for r in result.results:
        config = r.expectation_config
        kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
        res = r.result or {}
        columns = (
            [kwargs["column"]]
            if kwargs.get("column")
            else list(kwargs.get("column_list") or [])
            or [c for c in (kwargs.get("column_A"), kwargs.get("column_B")) if c]
        )
        element_count = res.get("element_count", row_count)
        unexpected = res.get("unexpected_count")
        unexpected_percent = res.get("unexpected_percent")
        sample = res.get("partial_unexpected_list")
        if r.exception_info and r.exception_info.get("raised_exception"):
            sample = [r.exception_info.get("exception_message")]
        elif unexpected is None and not r.success:
            # aggregate expectations (row count, min/max...): the observed value is the sample
            sample = [res.get("observed_value")]
        rows.append(
            {
                "expectation": config.type,
                "column": ",".join(columns) or None,
                "kwargs": _json_safe(kwargs),
                "rows_checked": int(element_count or 0),
                "unexpected_count": None if unexpected is None else int(unexpected),
                "unexpected_percent": (
                    None if unexpected_percent is None else round(float(unexpected_percent), 4)
                ),
                "observed_value": _json_safe(res.get("observed_value")),
                "success": bool(r.success),
                "sample_failing": _json_safe((sample or [])[:SAMPLE_SIZE]),
            }
        )
    return rows


def describe_failures(rows: Iterable[dict]) -> list[str]:
    out = []
    for row in rows:
        if row["success"]:
            continue
        where = f"{row['column']}: " if row["column"] else ""
        if row["unexpected_percent"] is not None:
            what = f"{row['unexpected_percent']:.2f}% of {row['rows_checked']:,} rows unexpected"
        else:
            what = f"observed {row['observed_value']}"
        out.append(f"{where}{row['expectation']} ({what}; e.g. {row['sample_failing'][:3]})")
    return out


# ---------------------------------------------------------------- raw and staging suites


# Raw source -> the staging model its checks are attached to (the raw assets are daily
# partitioned; their checks run on the unpartitioned staging model that reads them), and the
# entity key that staging makes unique (raw legitimately holds re-exports of the same entity).
STAGING_OF_SOURCE: dict[str, tuple[str, tuple[str, ...]]] = {
    "stores": ("stg_stores__stores", ("store_id",)),
    "products": ("stg_products__products", ("sku_id",)),
    "channel_prices": ("stg_products__channel_prices", ("price_date", "channel", "sku_id")),
    "campaigns": ("stg_marketing__campaigns", ("campaign_id",)),
    "marketing_spend": ("stg_marketing__spend", ("spend_date", "channel", "campaign_id")),
    "crm_members": ("stg_crm__members", ("member_id",)),
    "crm_points": ("stg_crm__points_transactions", ("points_transaction_id",)),
    "pos_receipts": ("stg_pos__receipts", ("receipt_id",)),
    "pos_receipt_lines": ("stg_pos__receipt_lines", ("receipt_id", "line_number")),
    "ecom_orders": ("stg_ecom__orders", ("platform", "order_id")),
    "ecom_order_lines": ("stg_ecom__order_lines", ("platform", "order_id", "line_number")),
    "refunds": ("stg_sales__refunds", ("channel", "refund_id")),
    "social_events": ("stg_social__events", ("event_id",)),
    "store_visits": ("stg_stores__visits", ("visit_id",)),
    "store_footfall": ("stg_stores__footfall_hourly", ("store_id", "hour_started_at_utc")),
    "deletion_requests": ("stg_privacy__deletion_requests", ("request_id",)),
}
# Staging models built incrementally (replace_records keyed on the suite's grain): their suites
# validate the rows each run rebuilt (see `batch_column` above).
INCREMENTAL_STAGING = {
    "stg_social__events",
    "stg_pos__receipts",
    "stg_pos__receipt_lines",
    "stg_ecom__orders",
    "stg_ecom__order_lines",
    "stg_crm__points_transactions",
    "stg_stores__visits",
}
# Sources exported every day: their latest export day may lag the data's latest by at most N days.
RAW_FRESHNESS_DAYS = {
    "channel_prices": 2,
    "marketing_spend": 2,
    "crm_members": 3,
    "crm_points": 3,
    "pos_receipts": 2,
    "pos_receipt_lines": 2,
    "ecom_orders": 2,
    "ecom_order_lines": 2,
    "refunds": 7,
    "social_events": 2,
    "store_visits": 3,
    "store_footfall": 2,
}
ID_FORMATS = {"store_id": r"^S\d{4}$", "sku_id": r"^SKU\d+$", "product_id": r"^PRD\d+$"}

E = gx.expectations


def raw_suite(source: Source) -> gx.ExpectationSuite:
    """Completeness, validity and format of a raw source, derived from the data contract."""
    ex: list = []
    for col in source.columns:
        if col.required:
            ex.append(E.ExpectColumnValuesToNotBeNull(column=col.name, mostly=MOSTLY))
        if col.allowed:
            ex.append(
                E.ExpectColumnValuesToBeInSet(
                    column=col.name, value_set=list(col.allowed), mostly=MOSTLY
                )
            )
        if col.positive:
            ex.append(E.ExpectColumnValuesToBeBetween(column=col.name, min_value=1, mostly=MOSTLY))
        elif col.non_negative:
            ex.append(E.ExpectColumnValuesToBeBetween(column=col.name, min_value=0, mostly=MOSTLY))
        if col.name in ID_FORMATS and col.type == "string":
            ex.append(
                E.ExpectColumnValuesToMatchRegex(
                    column=col.name, regex=ID_FORMATS[col.name], mostly=MOSTLY
                )
            )
    derived = {}
    if source.name in RAW_FRESHNESS_DAYS:
        derived["export_lag_days"] = "date_diff('day', t._partition_day, {latest_export_day})"
        ex.append(
            E.ExpectColumnMinToBeBetween(
                column="export_lag_days", max_value=RAW_FRESHNESS_DAYS[source.name]
            )
        )
    ex.append(E.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "volume_floor"}))
    staging_model, _ = STAGING_OF_SOURCE[source.name]
    return gx.ExpectationSuite(
        name=f"raw.{source.name}",
        expectations=ex,
        meta={
            "table": f"raw.{source.name}",
            "asset_key": ["staging", staging_model],
            "derived_columns": derived,
            "volume_min_share": VOLUME_MIN_SHARE,
            "batch_column": "_loaded_at",
            "notes": "Generated from orchestration/ingest/contracts.py by "
            "`python -m orchestration.quality.gx_suites`. Attached to the staging model because "
            "raw assets are daily-partitioned; validates the rows loaded since its last passing "
            "validation, and the whole table's row count.",
        },
    )


def staging_suite(source: Source) -> gx.ExpectationSuite:
    """Uniqueness (exact) and completeness of the entity key that staging makes unique."""
    model, key = STAGING_OF_SOURCE[source.name]
    ex: list = [E.ExpectColumnValuesToNotBeNull(column=c) for c in key]
    if len(key) == 1:
        ex.append(E.ExpectColumnValuesToBeUnique(column=key[0]))
    else:
        ex.append(E.ExpectCompoundColumnsToBeUnique(column_list=list(key)))
    ex.append(E.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "volume_floor"}))
    return gx.ExpectationSuite(
        name=f"staging.{model}",
        expectations=ex,
        meta={
            "table": f"staging.{model}",
            "asset_key": ["staging", model],
            "grain": list(key),
            "volume_min_share": VOLUME_MIN_SHARE,
            **({"batch_column": "processed_through_utc"} if model in INCREMENTAL_STAGING else {}),
            "notes": "Generated from orchestration/ingest/contracts.py by "
            "`python -m orchestration.quality.gx_suites`.",
        },
    )


def write_suite(suite: gx.ExpectationSuite, directory: Path = SUITES_DIR) -> Path:
    layer, table = suite.name.split(".", 1)
    path = directory / layer / f"{table}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(suite_to_dict(suite), indent=2, ensure_ascii=False) + "\n")
    return path


def main() -> None:
    for source in SOURCES:
        print(write_suite(raw_suite(source)))
        print(write_suite(staging_suite(source)))


if __name__ == "__main__":
    main()
