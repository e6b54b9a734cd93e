"""Semantic values -> the exact text of a CSV or JSON-lines export row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.ingest.contracts import Source
from orchestration.sample_world.text import money, timestamps_by_style

STRING = pa.large_string()


def column_text(source: Source, frame: pd.DataFrame) -> dict[str, pa.Array]:
    """Every contract column as an Arrow string array (null where empty), in contract order."""
    out = {}
    for column in source.columns:
        values = frame[column.name]
        if column.type == "timestamp":
            styles = np.broadcast_to(frame["_style"].to_numpy(dtype=object), (len(frame),))
            text = timestamps_by_style(values.to_numpy(dtype=np.int64), styles)
        elif column.type == "decimal":
            text = money(values.to_numpy(dtype=np.int64)).to_numpy(object)
        elif column.type == "integer":
            text = values.to_numpy(dtype=np.int64).astype(str).astype(object)
        elif column.type == "boolean":
            text = np.where(values.to_numpy(dtype=bool), "true", "false").astype(object)
        else:
            text = values.to_numpy(dtype=object)
        out[column.name] = pa.array(text, type=STRING, from_pandas=True)
    return out


def _lit(text: str) -> pa.Scalar:
    return pa.scalar(text, type=STRING)


def _wrap(left: str, values: pa.Array, right: str) -> pa.Array:
    return pc.binary_join_element_wise(_lit(left), values, _lit(right), _lit(""))


def csv_lines(source: Source, frame: pd.DataFrame) -> list[str]:
    """Rows as CSV lines: quote only fields that need it, empty field for a missing value."""
    cells = []
    for text in column_text(source, frame).values():
        needs = pc.fill_null(pc.match_substring_regex(text, '[,"\r\n]'), False)
        quoted = _wrap('"', pc.replace_substring(text, '"', '""'), '"')
        cells.append(pc.fill_null(pc.if_else(needs, quoted, text), _lit("")))
    return pc.binary_join_element_wise(*cells, _lit(",")).to_pylist()


def jsonl_lines(source: Source, frame: pd.DataFrame) -> list[str]:
    """Rows as JSON objects with the contract keys in order; a missing value is null."""
    cells = []
    for name, text in column_text(source, frame).items():
        if pc.any(pc.match_substring_regex(text, r'["\\]')).as_py():
            text = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
        member = _wrap(f'"{name}":"', text, '"')  # null stays null ...
        cells.append(pc.fill_null(member, _lit(f'"{name}":null')))  # ... and becomes JSON null
    return _wrap("{", pc.binary_join_element_wise(*cells, _lit(",")), "}").to_pylist()


def header(source: Source) -> str | None:
    return ",".join(source.column_names) if source.format == "csv" else None
