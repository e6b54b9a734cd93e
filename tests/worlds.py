"""Build a sample world and its warehouse exactly as `make run` does, in a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from orchestration.sample_world import WorldConfig, generate_world


@dataclass(frozen=True)
class World:
    root: Path
    config: WorldConfig
    run_output: str

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def truth(self) -> Path:
        return self.root / "truth"

    @property
    def warehouse(self) -> Path:
        """The published warehouse: what analysts open."""
        return self.root / "warehouse.duckdb"

    @property
    def build_copy(self) -> Path:
        return self.root / "build" / "warehouse.duckdb"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "LANDING_PATH": str(self.landing),
            "WAREHOUSE_PATH": str(self.build_copy),
            "PUBLISHED_WAREHOUSE_PATH": str(self.warehouse),
            "DAGSTER_HOME": str(self.root / "dagster_home"),
        }


def run_pipeline(world: World, *args: str) -> subprocess.CompletedProcess:
    (world.root / "dagster_home").mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "orchestration.run_pipeline", *args],
        env=world.environment(),
        capture_output=True,
        text=True,
        check=False,
    )


def _run_or_fail(world: World, *args: str) -> str:
    result = run_pipeline(world, *args)
    if result.returncode != 0:
        output = result.stdout + result.stderr
        raise AssertionError(f"pipeline failed on {world.config}:\n{output[-6000:]}")
    return result.stdout


def build_world(root: Path, config: WorldConfig, nightly: bool = False) -> World:
    """Generate and build a world. With `nightly`, the last export day is held back from the
    first build and then loaded by the `nightly` job for that day, as the schedule runs it."""
    generate_world(config, root)
    world = World(root, config, "")
    if not nightly:
        return World(root, config, _run_or_fail(world))
    last_day = max(p.name for p in world.landing.glob("*/*") if p.is_dir())
    held = list(world.landing.glob(f"*/{last_day}"))
    for folder in held:
        folder.rename(root / f"held_{folder.parent.name}")
    _run_or_fail(world)
    for folder in held:
        (root / f"held_{folder.parent.name}").rename(folder)
    return World(root, config, _run_or_fail(world, "--night", last_day))
