"""Row rules of the contract as one DuckDB query.

`checked_rows_sql` turns the text relation of one file into typed columns and a `_reason`:
NULL for a clean row, else the first rule it breaks as "<rule>:<column>". The loader then splits
the result into the raw table and the quarantine.
"""

from __future__ import annotations

from orchestration.ingest.contracts import Column, Source

DUCKDB_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "decimal": "DECIMAL(18, 2)",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
SHANGHAI_UTC_OFFSET_HOURS = 8  # Asia/Shanghai has had no daylight saving since 1991


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def typed_expr(column: Column) -> str:
    """SQL that casts the text value of `column` to its contract type, NULL when it can't."""
    v = f"trim({quote(column.name)})"
    match column.type:
        case "string":
            return f"lower({v})" if column.allowed else quote(column.name)
        case "integer":
            return f"try_cast({v} AS BIGINT)"
        case "decimal":
            return f"try_cast({v} AS DECIMAL(18, 2))"
        case "boolean":
            return (
                f"CASE WHEN lower({v}) IN ('true', '1', 'yes', 'y') THEN true "
                f"WHEN lower({v}) IN ('false', '0', 'no', 'n') THEN false END"
            )
        case "date":
            return f"try_strptime({v}, '%Y-%m-%d')::DATE"
        case "timestamp":
            # An explicit zone is honoured; a naive time is the contract's Asia/Shanghai local.
            return (
                f"CASE WHEN regexp_matches({v}, '(Z|[+-][0-9]{{2}}:?[0-9]{{2}})$') "
                f"THEN try_cast({v} AS TIMESTAMPTZ)::TIMESTAMP "
                f"ELSE try_strptime({v}, ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', "
                f"'%Y-%m-%d %H:%M', '%Y/%m/%d %H:%M:%S']) "
                f"- INTERVAL {SHANGHAI_UTC_OFFSET_HOURS} HOUR END"
            )
    raise ValueError(f"unknown contract type {column.type!r} for {column.name}")


def _rule_checks(column: Column, schema: str) -> list[str]:
    name, raw, typed = column.name, quote(column.name), f"__typed_{column.name}"
    checks = []
    if column.required:
        checks.append(f"CASE WHEN {raw} IS NULL THEN 'missing_required:{name}' END")
    if column.type != "string":
        checks.append(
            f"CASE WHEN {raw} IS NOT NULL AND {typed} IS NULL THEN 'invalid_type:{name}' END"
        )
    if column.allowed:
        allowed = ", ".join(literal(a) for a in column.allowed)
        checks.append(
            f"CASE WHEN {typed} IS NOT NULL AND {typed} NOT IN ({allowed}) "
            f"THEN 'not_allowed:{name}' END"
        )
    if column.non_negative:
        checks.append(f"CASE WHEN {typed} < 0 THEN 'negative_value:{name}' END")
    if column.positive:
        checks.append(f"CASE WHEN {typed} <= 0 THEN 'not_positive:{name}' END")
    if column.not_in_future:
        checks.append(_future_check(column))
    if column.references:
        ref_source, ref_column = column.references.split(".")
        checks.append(
            f"CASE WHEN {raw} IS NOT NULL AND trim({raw}) NOT IN "
            f"(SELECT trim({quote(ref_column)}) FROM {schema}.{quote(ref_source)} "
            f"WHERE {quote(ref_column)} IS NOT NULL) THEN 'unknown_reference:{name}' END"
        )
    return checks


def _future_check(column: Column) -> str:
    """A record can't be newer than the end of its export day (Asia/Shanghai)."""
    typed = f"__typed_{column.name}"
    if column.type == "date":
        return f"CASE WHEN {typed} > _partition_day THEN 'future_timestamp:{column.name}' END"
    limit = (
        f"(_partition_day + INTERVAL 1 DAY - INTERVAL {SHANGHAI_UTC_OFFSET_HOURS} HOUR)::TIMESTAMP"
    )
    return f"CASE WHEN {typed} >= {limit} THEN 'future_timestamp:{column.name}' END"


def text_projection_sql(source: Source, present: list[str], extras: list[str]) -> str:
    """Contract columns as trimmed-to-NULL text, plus `_extra` (drifted columns as JSON)."""
    cols = []
    for name in source.column_names:
        if source.format == "jsonl":
            path = literal("$." + name)
            value = f"CASE WHEN json_valid(_json) THEN json_extract_string(_json, {path}) END"
        elif name in present:
            value = quote(name)
        else:
            value = "NULL"
        cols.append(f"CASE WHEN trim({value}) = '' THEN NULL ELSE {value} END AS {quote(name)}")
    if source.format == "jsonl":
        cols.append("json_valid(_json) AS _json_ok")
        cols.append("_json AS _record")
    else:
        cols.append("true AS _json_ok")
        pairs = ", ".join(f"{literal(c)}, {quote(c)}" for c in (*present, *extras))
        cols.append(f"json_object({pairs})::VARCHAR AS _record")
    if extras:
        pairs = ", ".join(f"{literal(e)}, {quote(e)}" for e in extras)
        cols.append(f"json_object({pairs})::VARCHAR AS _extra")
    else:
        cols.append("NULL::VARCHAR AS _extra")
    cols += ["_line", "_file_path", "CAST(_partition_day AS DATE) AS _partition_day"]
    return "SELECT " + ",\n  ".join(cols) + "\nFROM incoming"


def checked_rows_sql(
    source: Source, present: list[str], extras: list[str], schema: str = "raw"
) -> str:
    """Rows of `incoming` (text columns + _line, _file_path, _partition_day) with their verdict."""
    typed = ",\n  ".join(f"{typed_expr(c)} AS __typed_{c.name}" for c in source.columns)
    checks = ["CASE WHEN NOT _json_ok THEN 'invalid_json' END"]
    for column in source.columns:
        checks.extend(_rule_checks(column, schema))
    raw_cols = ", ".join(quote(c) for c in source.column_names)
    first_broken_rule = ",\n    ".join(checks)
    return f"""
WITH text_rows AS (
{text_projection_sql(source, present, extras)}
),
typed_rows AS (
  SELECT *,
  {typed}
  FROM text_rows
),
ruled AS (
  SELECT *, coalesce(
    {first_broken_rule}
  ) AS _rule_reason
  FROM typed_rows
)
SELECT *,
  coalesce(
    _rule_reason,
    CASE WHEN row_number() OVER (
      PARTITION BY _file_path, {raw_cols}, _extra, _rule_reason IS NULL ORDER BY _line
    ) > 1 THEN 'duplicate_row' END
  ) AS _reason
FROM ruled
"""


def raw_table_ddl(source: Source, schema: str = "raw") -> str:
    cols = [f"{quote(c.name)} {DUCKDB_TYPES[c.type]}" for c in source.columns]
    cols += [
        "_extra VARCHAR",
        "_source_file VARCHAR NOT NULL",
        "_line BIGINT NOT NULL",
        "_partition_day DATE NOT NULL",
        "_load_id VARCHAR NOT NULL",
        "_loaded_at TIMESTAMP NOT NULL",
    ]
    return (
        f"CREATE TABLE IF NOT EXISTS {schema}.{quote(source.name)} (\n  "
        + ",\n  ".join(cols)
        + "\n)"
    )
