"""Publishing the audited build as the file analysts open, atomically, and rolling back.

A published version is written in full under a temporary name, then renamed into the versions
folder; the analysts' path is then swapped to it with one rename, which POSIX makes atomic. A
reader that opened the previous file keeps reading it undisturbed: it is never locked out and
never sees a half-written file. A run that fails or is killed before the swap changes nothing.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.ingest.loader import PUBLICATIONS_DDL

VERSION_PREFIX = "warehouse-"


def _swap_in(version: Path, published: Path) -> None:
    staging = published.with_name(published.name + ".publishing")
    staging.unlink(missing_ok=True)
    try:
        os.link(version, staging)
    except OSError:  # filesystems without hard links
        shutil.copy2(version, staging)
    os.replace(staging, published)


def _record_publication(warehouse: Path, version_name: str, published_at: datetime) -> None:
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS audit")
        conn.execute(PUBLICATIONS_DDL)
        conn.execute(
            "INSERT INTO audit.publications VALUES (?, ?)",
            [version_name, published_at.replace(tzinfo=None)],
        )
        conn.execute("CHECKPOINT")


def _checkpoint(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("CHECKPOINT")


def versions(versions_dir: Path) -> list[Path]:
    return sorted(versions_dir.glob(f"{VERSION_PREFIX}*.duckdb"))


def publish(build: Path, published: Path, versions_dir: Path, keep: int) -> Path:
    """Copy the checkpointed build into a new version and make it the published warehouse.

    The publication is recorded (audit.publications) in the version before it is swapped in and
    in the build after, so later data tests of incremental models start from it. A run stopped
    at any point leaves the build claiming at most what was published: its next night's tests
    may check more rows, never fewer."""
    published_at = datetime.now(UTC)
    version = versions_dir / f"{VERSION_PREFIX}{published_at.strftime('%Y%m%dT%H%M%S%fZ')}.duckdb"
    _checkpoint(build)
    versions_dir.mkdir(parents=True, exist_ok=True)
    published.parent.mkdir(parents=True, exist_ok=True)
    partial = version.with_suffix(".partial")
    try:
        shutil.copy2(build, partial)
        _record_publication(partial, version.name, published_at)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, version)
    _swap_in(version, published)
    _record_publication(build, version.name, published_at)
    for old in versions(versions_dir)[:-keep]:
        old.unlink()
    return version


def rollback(published: Path, versions_dir: Path, build: Path) -> Path:
    """Publish the version before the current one again, and restart the build copy from it."""
    kept = versions(versions_dir)
    if len(kept) < 2:
        raise RuntimeError(f"nothing to roll back to: {len(kept)} published version(s) kept")
    current, previous = kept[-1], kept[-2]
    _swap_in(previous, published)
    current.unlink()
    build.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(previous, build)
    build.with_name(build.name + ".wal").unlink(missing_ok=True)
    return previous
