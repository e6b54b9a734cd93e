"""Append rows to the landing zone, file by file, and record every defect by file and line."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from orchestration.ingest.contracts import SOURCES_BY_NAME
from orchestration.sample_world.config import WorldConfig
from orchestration.sample_world.defects import FLAG_KINDS, TRANSACTIONAL
from orchestration.sample_world.formatting import csv_lines, header, jsonl_lines

POS_SOURCES = ("pos_receipts", "pos_receipt_lines")
MASTER_SOURCES = ("stores", "products", "campaigns")
DEFECT_COLUMNS = ["source", "file", "line", "defect_kind", "expected_reason"]


class LandingWriter:
    def __init__(self, root: Path, config: WorldConfig):
        self.root = root
        self.config = config
        self.line_count: dict[str, int] = {}  # physical lines written so far, header included
        self.encoding: dict[str, str] = {}
        self.defects: list[pd.DataFrame] = []
        self.file_defects: list[tuple] = []

    def _file_draw(self, rel: str) -> float:
        """A per-file uniform draw that depends only on the seed and the path."""
        digest = hashlib.sha256(f"{self.config.seed}:{rel}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def path_for(self, source: str, day: int, part: str = "") -> str:
        date = (self.config.start + pd.Timedelta(days=int(day))).isoformat()[:10]
        ext = SOURCES_BY_NAME[source].format
        stem = f"{source}_{part}_{date}" if part else f"{source}_{date}"
        return f"{source}/{date}/{stem}.{ext}"

    def _choose_encoding(self, source: str, part: str, rel: str) -> str:
        if source in POS_SOURCES and part in self.config.gbk_regions:
            return "gbk"
        if source == "stores":
            return self.config.stores_encoding
        if (
            SOURCES_BY_NAME[source].format == "csv"
            and self._file_draw(rel) < self.config.bom_file_rate
        ):
            return "utf-8-sig"
        return "utf-8"

    def _open(self, source: str, part: str, rel: str) -> None:
        encoding = self._choose_encoding(source, part, rel)
        self.encoding[rel] = encoding
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        head = header(SOURCES_BY_NAME[source])
        path.write_bytes(((head + "\n") if head else "").encode(encoding))
        self.line_count[rel] = 1 if head else 0
        kind = {"gbk": "gbk_file", "utf-8-sig": "bom_file"}.get(encoding)
        if kind:
            self._file_defect(source, rel, kind, None)

    def _file_defect(self, source: str, rel: str, kind: str, reason: str | None) -> None:
        self.file_defects.append((source, rel, None, kind, reason))

    def write(self, source: str, frame: pd.DataFrame, rng: np.random.Generator) -> None:
        """Append a spoiled frame, one file per (_day, _part), duplicating some valid rows.

        The whole frame is formatted at once; only the file writes loop (once per file).
        """
        if frame.empty:
            return
        frame = frame.sort_values(["_day", "_part"], kind="stable").reset_index(drop=True)
        copies = np.ones(len(frame), dtype=np.int64)
        if source in TRANSACTIONAL:
            valid = frame["_invalid"].isna().to_numpy()
            copies += valid & (rng.random(len(frame)) < self.config.duplicate_row_rate)
        rows = np.repeat(np.arange(len(frame)), copies)
        is_copy = np.r_[False, rows[1:] == rows[:-1]]
        fmt = csv_lines if SOURCES_BY_NAME[source].format == "csv" else jsonl_lines
        lines = np.array(fmt(SOURCES_BY_NAME[source], frame), dtype=object)[rows]
        day = frame["_day"].to_numpy()[rows]
        part = frame["_part"].to_numpy(dtype=object)[rows]
        new_group = np.r_[True, (day[1:] != day[:-1]) | (part[1:] != part[:-1])]
        bounds = np.r_[np.flatnonzero(new_group), len(rows)]
        line_of = np.empty(len(rows), dtype=np.int64)
        file_of = np.empty(len(rows), dtype=object)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            rel = self.path_for(source, int(day[lo]), str(part[lo]))
            line_of[lo:hi] = self._append(source, str(part[lo]), rel, lines[lo:hi])
            file_of[lo:hi] = rel
        self._row_defects(source, frame, rows, is_copy, file_of, line_of)

    def _append(self, source: str, part: str, rel: str, lines: np.ndarray) -> np.ndarray:
        """Write lines at the end of a file; return their physical line numbers."""
        if rel not in self.line_count:
            self._open(source, part, rel)
        text = "\n".join(lines.tolist()) + "\n"
        with open(self.root / rel, "ab") as fh:
            # the BOM belongs to the start of the file only, which _open already wrote
            fh.write(text.encode(self.encoding[rel].replace("utf-8-sig", "utf-8")))
        first = self.line_count[rel] + 1
        self.line_count[rel] += len(lines)
        return first + np.arange(len(lines))

    def _row_defects(self, source, frame, rows, is_copy, file_of, line_of) -> None:
        """One defect row per (line, kind); a duplicate's own defects are its original's."""
        original = ~is_copy
        hits, kinds, reasons = [], [], []
        for flag, kind in FLAG_KINDS.items():
            hit = np.flatnonzero(frame[flag].to_numpy(dtype=bool)[rows] & original)
            hits.append(hit)
            kinds.append(np.full(len(hit), kind, dtype=object))
            reasons.append(np.full(len(hit), None, dtype=object))
        invalid = frame["_invalid"].to_numpy(dtype=object)[rows]
        hit = np.flatnonzero(pd.notna(invalid) & original)
        hits.append(hit)
        kinds.append(invalid[hit])
        reasons.append(frame["_reason"].to_numpy(dtype=object)[rows][hit])
        hit = np.flatnonzero(is_copy)
        hits.append(hit)
        kinds.append(np.full(len(hit), "duplicate_row", dtype=object))
        reasons.append(kinds[-1])
        at = np.concatenate(hits)
        self.defects.append(
            _defect_rows(
                source, file_of[at], line_of[at], np.concatenate(kinds), np.concatenate(reasons)
            )
        )

    def resend_some_files(self) -> None:
        """Deliver a few daily files twice: a byte-identical copy in the next day's folder."""
        last = (self.config.start + pd.Timedelta(days=self.config.days - 1)).isoformat()[:10]
        for rel in sorted(self.line_count):
            source, date = rel.split("/")[:2]
            if source in MASTER_SOURCES or date >= last:
                continue
            if self._file_draw("resend:" + rel) >= self.config.duplicate_file_rate:
                continue
            nxt = (pd.Timestamp(date) + pd.Timedelta(days=1)).isoformat()[:10]
            name = Path(rel).name
            stem, ext = name.rsplit(".", 1)
            target = f"{source}/{nxt}/{stem}_resend.{ext}"
            (self.root / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.root / rel, self.root / target)
            self._file_defect(source, target, "duplicate_file", "duplicate_file")

    def take_defects(self) -> pd.DataFrame:
        """The defects recorded since the last call (so they never pile up in memory)."""
        files = pd.DataFrame(self.file_defects, columns=DEFECT_COLUMNS)
        table = pd.concat([*self.defects, files], ignore_index=True)
        self.defects, self.file_defects = [], []
        table["line"] = table["line"].astype("Int64")
        return table

    def data_rows(self) -> dict[str, int]:
        """Data rows written per source (headers and resent copies not counted)."""
        counts: dict[str, int] = {}
        for rel, lines in self.line_count.items():
            source = rel.split("/")[0]
            has_header = SOURCES_BY_NAME[source].format == "csv"
            counts[source] = counts.get(source, 0) + lines - has_header
        return counts


def _defect_rows(source, rel, lines, kind, reason) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source": source,
            "file": rel,
            "line": np.asarray(lines, dtype=np.int64),
            "defect_kind": kind,
            "expected_reason": reason,
        },
        columns=DEFECT_COLUMNS,
        index=range(len(lines)),
    )
