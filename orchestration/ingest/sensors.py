"""A sensor that notices new or changed landing files and requests their export-day partitions."""

import hashlib
import json
from collections import defaultdict
from pathlib import Path

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    sensor,
)

from orchestration import settings
from orchestration.ingest.assets import raw_asset_key
from orchestration.ingest.contracts import SOURCES
from orchestration.ingest.jobs import ingest_job
from orchestration.ingest.partitions import export_day_partitions


def folder_fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of a day folder's files: cheap, no content read."""
    stats = sorted(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()
    )
    return hashlib.sha1(json.dumps(stats).encode()).hexdigest()[:16]


def changed_partitions(
    landing: Path, cursor: dict[str, str], valid_days: set[str]
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Export days whose folders changed since `cursor`, with the sources that changed."""
    changed: dict[str, list[str]] = defaultdict(list)
    new_cursor = dict(cursor)
    for source in SOURCES:
        source_dir = landing / source.name
        if not source_dir.is_dir():
            continue
        for day_dir in sorted(p for p in source_dir.iterdir() if p.is_dir()):
            if day_dir.name not in valid_days:
                continue
            key = f"{source.name}/{day_dir.name}"
            fingerprint = folder_fingerprint(day_dir)
            if cursor.get(key) != fingerprint:
                changed[day_dir.name].append(source.name)
                new_cursor[key] = fingerprint
    return dict(changed), new_cursor


@sensor(
    job=ingest_job,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.STOPPED,
    description="Requests a run per export day whose landing files are new or changed, "
    "for just the sources that changed.",
)
def landing_zone_sensor(context: SensorEvaluationContext) -> SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else {}
    valid_days = set(export_day_partitions.get_partition_keys())
    changed, new_cursor = changed_partitions(settings.LANDING_PATH, cursor, valid_days)
    requests = [
        RunRequest(
            run_key=f"{day}:" + ",".join(f"{s}@{new_cursor[f'{s}/{day}']}" for s in sources),
            partition_key=day,
            asset_selection=[raw_asset_key(s) for s in sources],
        )
        for day, sources in sorted(changed.items())
    ]
    return SensorResult(run_requests=requests, cursor=json.dumps(new_cursor, sort_keys=True))
