"""`make bench`: generate a world, build it in full, then run the nightly job for one more day.

Prints per stage the wall time, rows per second and peak memory, the time DuckDB needs only to
read the same raw files once, and the ratio of the full build to that read: the figure to drive
down. Results are appended to bench/results/ so they can be compared over time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil

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
SAMPLE_EVERY_SECONDS = 0.25


class TreeMemorySampler(threading.Thread):
    """Samples the resident memory of a process and all its descendants (dbt runs as a child
    of the Dagster process): (epoch seconds, MiB) pairs, so that stages get their own peaks."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.samples: list[tuple[float, float]] = []
        self.stopped = threading.Event()

    def _tree_rss(self) -> int:
        total = 0
        for process in [self.root, *self.root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += process.memory_info().rss
        return total

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_EVERY_SECONDS):
            with contextlib.suppress(psutil.Error):
                self.samples.append((time.time(), self._tree_rss() / 2**20))


def _run(args: list[str], env: dict[str, str]) -> tuple[float, float, list[tuple[float, float]]]:
    """Run a command; return wall seconds, the peak RSS (MiB) of its largest process and the
    memory samples of its process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", _MEASURE, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = TreeMemorySampler(process.pid)
    sampler.start()
    stdout, stderr = process.communicate()
    sampler.stopped.set()
    sampler.join()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{args} failed:\n{(stdout + stderr)[-4000:]}")
    peak_kib = int(stderr.strip().splitlines()[-1])
    return seconds, peak_kib / 1024, sampler.samples


def node_stage(key: str) -> str:
    """Which stage a dbt model or test belongs to, from its asset key (tests: `asset:check`)."""
    if ":" in key:
        return "checks"
    layer, _, name = key.partition("/")
    if layer in ("staging", "reference"):
        return "staging"
    if layer == "identity" or name.startswith("int_identity__"):
        return "identity"
    return "marts"


def stage_of(assets: list[str], step: str) -> str:
    """Which stage a step that is not a dbt invocation belongs to, from the assets it made."""
    if step.startswith("raw__"):
        return "ingest"
    layers = [a.split("/")[0] for a in assets]
    if not layers:
        return "checks"
    if "published_warehouse" in layers:
        return "publish"
    if "privacy" in layers:
        return "erasure"
    if "identity" in layers:
        return "identity"
    return "marts"


def step_stage_seconds(step: dict) -> dict[str, float]:
    """A step's wall time by stage. A dbt invocation builds models and runs tests of several
    stages: its time is shared out in proportion to the execution time dbt reported for each."""
    by_stage: dict[str, float] = defaultdict(float)
    for key, seconds in step.get("node_seconds", {}).items():
        by_stage[node_stage(key)] += seconds
    total = sum(by_stage.values())
    if not total:
        return {stage_of(step["assets"], step["step"]): step["seconds"]}
    return {stage: step["seconds"] * share / total for stage, share in by_stage.items()}


def stages(
    timings_file: Path, samples: list[tuple[float, float]]
) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds and peak MiB (of the process tree, over the steps that worked for it) per stage."""
    seconds: dict[str, float] = defaultdict(float)
    peaks: dict[str, float] = defaultdict(float)
    for steps in json.loads(timings_file.read_text()).values():
        for step in steps:
            during = [mib for at, mib in samples if step["started_at"] <= at <= step["ended_at"]]
            for stage, share in step_stage_seconds(step).items():
                seconds[stage] += share
                peaks[stage] = max([peaks[stage], *during])
    return dict(seconds), dict(peaks)


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


def _stage_figures(timings_file: Path, samples: list[tuple[float, float]]) -> dict:
    seconds, peaks = stages(timings_file, samples)
    return {
        "stages": {stage: round(v, 1) for stage, v in sorted(seconds.items())},
        "stage_peak_mib": {stage: round(v) for stage, v in sorted(peaks.items())},
        "tree_peak_mib": round(max((mib for _, mib in samples), default=0)),
    }


def _commit() -> str:
    described = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=settings.REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return described.stdout.strip() or "unknown"


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
        gen_seconds, gen_peak, _ = _run(generate, env)
        generated = {"seconds": round(gen_seconds, 1), "peak_mib": round(gen_peak)}
    for stale in ("build", "published", "warehouse.duckdb", "dagster_home"):
        if (workdir / stale).is_dir():
            shutil.rmtree(workdir / stale)
        elif (workdir / stale).exists():
            (workdir / stale).unlink()
    (workdir / "dagster_home").mkdir(parents=True)
    last_day = hold_back_last_day(landing, holdback)

    full_timings = workdir / "full.json"
    full_seconds, full_peak, full_samples = _run(
        [python, "-m", "orchestration.run_pipeline", "--timings", str(full_timings)], env
    )
    rows = raw_rows(workdir / "warehouse.duckdb")
    throughput = ingest_throughput(workdir / "warehouse.duckdb", full_timings)
    read_seconds = raw_read_seconds(landing)

    restore(holdback, landing)
    nightly_timings = workdir / "nightly.json"
    nightly_seconds, nightly_peak, nightly_samples = _run(
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
        "commit": _commit(),
        "customers": customers,
        "days": days,
        "raw_rows": rows,
        "generate": generated,
        "full_build": {
            "seconds": round(full_seconds, 1),
            "peak_mib": round(full_peak),
            **_stage_figures(full_timings, full_samples),
        },
        "ingest_by_source": throughput,
        "raw_read_seconds": round(read_seconds, 2),
        "full_build_to_raw_read": round(full_seconds / read_seconds, 1),
        "nightly_increment": {
            "day": last_day,
            "seconds": round(nightly_seconds, 1),
            "peak_mib": round(nightly_peak),
            **_stage_figures(nightly_timings, nightly_samples),
        },
    }


STAGE_ORDER = ("ingest", "erasure", "staging", "identity", "marts", "checks", "publish")


def print_table(result: dict) -> None:
    rows = result["raw_rows"]
    full, nightly = result["full_build"], result["nightly_increment"]
    print(
        f"\n{result['customers']:,} customers, {result['days']} days, {rows:,} raw rows "
        f"on {result['machine']} at {result['commit']}"
    )
    generated = result["generate"]
    if "seconds" in generated:
        print(
            f"generate: {generated['seconds']} s, {rows / generated['seconds']:,.0f} rows/s, "
            f"peak {generated['peak_mib']} MiB"
        )
    else:
        print(f"generate: reused (world already in {generated['reused']})")
    header = f"{'stage':<12}{'full s':>10}{'rows/s':>12}{'peak MiB':>10}"
    print(f"{header}{'nightly s':>12}{'share':>8}{'peak MiB':>10}")
    for stage in STAGE_ORDER:
        seconds, night = full["stages"].get(stage, 0), nightly["stages"].get(stage, 0)
        full_peak = full["stage_peak_mib"].get(stage, 0)
        night_peak = nightly["stage_peak_mib"].get(stage, 0)
        print(
            f"{stage:<12}{seconds:>10}{rows / seconds if seconds else 0:>12,.0f}"
            f"{full_peak:>10}{night:>12}{night / seconds if seconds else 0:>8.0%}{night_peak:>10}"
        )
    print(
        f"{'total':<12}{full['seconds']:>10}{rows / full['seconds']:>12,.0f}"
        f"{full['tree_peak_mib']:>10}{nightly['seconds']:>12}"
        f"{nightly['seconds'] / full['seconds']:>8.0%}{nightly['tree_peak_mib']:>10}"
    )
    print(
        "(totals include process start, the runs' own overhead and the summary; peaks are of"
        " the whole process tree, Dagster and dbt together; the largest single process peaked"
        f" at {full['peak_mib']} MiB in the full build, {nightly['peak_mib']} MiB in the night)"
    )
    print(
        f"DuckDB raw read: {result['raw_read_seconds']} s; full build / raw read: "
        f"{result['full_build_to_raw_read']}x"
    )
    print("ingest throughput by source:")
    for source, figures in result["ingest_by_source"].items():
        print(f"  {source:<20}{figures['rows']:>12,} rows {figures['rows_per_s']:>12,} rows/s")


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
    out = RESULTS_DIR / f"{result['measured_at'][:10]}-{args.customers}-{result['commit']}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"\nwritten to {out.relative_to(settings.REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
