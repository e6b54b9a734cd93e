"""`make bench`: generate a world, build it in full, then run the nightly job for one more day.

Prints per stage the wall time, rows per second and peak memory, the time DuckDB needs only to
read the same raw files once, and the ratio of the full build to that read: the figure to drive
down. Results are appended to bench/results/ so they can be compared over time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.identity.keyed_hash import SAMPLE_WORLD_MARKER
from orchestration.ingest.contracts import SOURCES

RESULTS_DIR = settings.REPO_ROOT / "bench" / "results"


# Runs a command and reports the peak resident memory of its largest process on the last line.
_MEASURE = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
    "sys.exit(r.returncode)"
)


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command; return wall seconds and the peak RSS (MiB) of its largest process."""
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"{args} failed:\n{(completed.stdout + completed.stderr)[-4000:]}")
    peak_kib = int(completed.stderr.strip().splitlines()[-1])
    return seconds, peak_kib / 1024


def stage_of(assets: list[str], step: str) -> str:
    """Which stage a Dagster step belongs to, from the assets it materialised."""
    if step.startswith("raw__"):
        return "ingest"
    layers = [a.split("/")[0] for a in assets]
    if not layers:
        return "checks"
    if "published_warehouse" in layers:
        return "publish"
    if "privacy" in layers:
        return "erasure"
    if "identity" in layers or any("int_identity" in a for a in assets):
        return "identity"
    counts = {layer: layers.count(layer) for layer in set(layers)}
    top = max(counts, key=counts.get)
    return {"staging": "staging", "reference": "staging"}.get(top, "marts")


def stages(timings_file: Path) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for steps in json.loads(timings_file.read_text()).values():
        for step in steps:
            totals[stage_of(step["assets"], step["step"])] += step["seconds"]
    return dict(totals)


def raw_read_seconds(landing: Path) -> float:
    """DuckDB reading every landing file once, as text, and counting rows: the floor."""
    started = time.perf_counter()
    with duckdb.connect() as conn:
        for source in SOURCES:
            pattern = str(landing / source.name / "*" / "*")
            if not list((landing / source.name).glob("*/*")):
                continue
            reader = (
                f"read_csv('{pattern}', all_varchar = true, ignore_errors = true, "
                "strict_mode = false, header = true)"
                if source.format == "csv"
                else f"read_json_objects('{pattern}', ignore_errors = true)"
            )
            conn.execute(f"SELECT count(*) FROM {reader}").fetchall()
    return time.perf_counter() - started


def raw_rows(warehouse: Path) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return int(conn.execute("SELECT sum(rows_read) FROM audit.load_log").fetchall()[0][0])


def ingest_throughput(warehouse: Path, timings_file: Path) -> dict[str, dict]:
    """Rows read and rows per second of each source's load step."""
    seconds = {
        step["step"].removeprefix("raw__"): step["seconds"]
        for step in json.loads(timings_file.read_text())["ingest"]
    }
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        rows = dict(
            conn.execute("SELECT source, sum(rows_read) FROM audit.load_log GROUP BY 1").fetchall()
        )
    return {
        source: {
            "rows": int(n),
            "seconds": seconds[source],
            "rows_per_s": round(n / seconds[source]),
        }
        for source, n in sorted(rows.items())
        if seconds.get(source)
    }


def hold_back_last_day(landing: Path, holdback: Path) -> str:
    last = max(p.name for s in SOURCES for p in (landing / s.name).glob("*") if p.is_dir())
    for folder in landing.glob(f"*/{last}"):
        target = holdback / folder.parent.name
        target.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), target / last)
    return last


def restore(holdback: Path, landing: Path) -> None:
    for folder in holdback.glob("*/*"):
        shutil.move(str(folder), landing / folder.parent.name / folder.name)


def bench(customers: int, days: int, seed: int, workdir: Path, reuse_world: bool) -> dict:
    landing = workdir / "landing"
    env = {
        **os.environ,
        "LANDING_PATH": str(landing),
        "WAREHOUSE_PATH": str(workdir / "build" / "warehouse.duckdb"),
        "PUBLISHED_WAREHOUSE_PATH": str(workdir / "warehouse.duckdb"),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
    }
    python = sys.executable
    generate = [
        python,
        "-m",
        "orchestration.sample_world",
        "--customers",
        str(customers),
        "--days",
        str(days),
        "--seed",
        str(seed),
        "--out",
        str(workdir),
        "--force",
    ]
    holdback = workdir / "holdback"
    restore(holdback, landing)  # a reused world may hold a day back from an earlier bench
    if reuse_world and (landing / SAMPLE_WORLD_MARKER).exists():
        generated = {"reused": str(workdir)}
    else:
        gen_seconds, gen_peak = _run(generate, env)
        generated = {"seconds": round(gen_seconds, 1), "peak_mib": round(gen_peak)}
    for stale in ("build", "published", "warehouse.duckdb", "dagster_home"):
        if (workdir / stale).is_dir():
            shutil.rmtree(workdir / stale)
        elif (workdir / stale).exists():
            (workdir / stale).unlink()
    (workdir / "dagster_home").mkdir(parents=True)
    last_day = hold_back_last_day(landing, holdback)

    full_timings = workdir / "full.json"
    full_seconds, full_peak = _run(
        [python, "-m", "orchestration.run_pipeline", "--timings", str(full_timings)], env
    )
    rows = raw_rows(workdir / "warehouse.duckdb")
    throughput = ingest_throughput(workdir / "warehouse.duckdb", full_timings)
    read_seconds = raw_read_seconds(landing)

    restore(holdback, landing)
    nightly_timings = workdir / "nightly.json"
    nightly_seconds, nightly_peak = _run(
        [
            python,
            "-m",
            "orchestration.run_pipeline",
            "--night",
            last_day,
            "--timings",
            str(nightly_timings),
        ],
        env,
    )
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "customers": customers,
        "days": days,
        "raw_rows": rows,
        "generate": generated,
        "full_build": {
            "seconds": round(full_seconds, 1),
            "peak_mib": round(full_peak),
            "stages": {k: round(v, 1) for k, v in stages(full_timings).items()},
        },
        "ingest_by_source": throughput,
        "raw_read_seconds": round(read_seconds, 2),
        "full_build_to_raw_read": round(full_seconds / read_seconds, 1),
        "nightly_increment": {
            "day": last_day,
            "seconds": round(nightly_seconds, 1),
            "peak_mib": round(nightly_peak),
            "stages": {k: round(v, 1) for k, v in stages(nightly_timings).items()},
        },
    }


def print_table(result: dict) -> None:
    rows = result["raw_rows"]
    print(
        f"\n{result['customers']:,} customers, {result['days']} days, {rows:,} raw rows "
        f"on {result['machine']}"
    )
    print(f"{'stage':<22}{'seconds':>10}{'rows/s':>14}")
    generated = result["generate"]
    if "seconds" in generated:
        print(f"{'generate':<22}{generated['seconds']:>10}{rows / generated['seconds']:>14,.0f}")
    else:
        print(f"{'generate':<22}{'reused':>10}   (world already in {generated['reused']})")
    for stage, seconds in sorted(result["full_build"]["stages"].items()):
        print(f"{'  ' + stage:<22}{seconds:>10}{rows / seconds if seconds else 0:>14,.0f}")
    print(
        f"{'full build':<22}{result['full_build']['seconds']:>10}"
        f"{rows / result['full_build']['seconds']:>14,.0f}"
    )
    print(f"{'DuckDB raw read':<22}{result['raw_read_seconds']:>10}")
    print("ingest throughput by source (rows/s):")
    for source, figures in result["ingest_by_source"].items():
        print(f"  {source:<20}{figures['rows']:>12,} rows {figures['rows_per_s']:>12,} rows/s")
    print(f"full build / raw read: {result['full_build_to_raw_read']}x")
    nightly = result["nightly_increment"]
    print(
        f"{'nightly increment':<22}{nightly['seconds']:>10}   "
        f"({nightly['seconds'] / result['full_build']['seconds']:.0%} of the full build)"
    )
    print(
        f"peak memory MiB: generate {generated.get('peak_mib', '-')}, "
        f"build {result['full_build']['peak_mib']}, nightly {nightly['peak_mib']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", help="where to build (default: a temporary folder)")
    parser.add_argument(
        "--reuse-world",
        action="store_true",
        help="skip generation when the workdir already holds a generated world",
    )
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="omnichannel-bench-"))
    result = bench(args.customers, args.days, args.seed, workdir, args.reuse_world)
    print_table(result)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"{result['measured_at'][:10]}-{args.customers}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwritten to {out.relative_to(settings.REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
