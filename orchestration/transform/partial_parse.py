"""Keep dbt's partial-parse state valid for the warehouse this process builds.

dbt reparses the whole project (about 15 s per invocation) when the connection details it parsed
with differ from the invocation's: its partial-parse file records a hash of them, and the DuckDB
path is one. `make manifest` parses with the profile's default path while a run builds whatever
WAREHOUSE_PATH names (settings makes it absolute; the bench and the tests point it at their own
worlds), so every dbt step of every run reparsed. Dagster copies target/partial_parse.msgpack
into each invocation's target folder: parsing once with the run's environment, and replacing
that file, lets the other steps of the run and the nights after it skip the parse.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path

PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# Beside the state: the environment it was parsed with, and the state file it describes.
STAMP_FILE = "partial_parse.environment.json"


def profile_environment(project_dir: Path) -> dict[str, str]:
    """The environment variables profiles.yml reads, with their current values."""
    names = re.findall(r"env_var\(\s*['\"](\w+)['\"]", (project_dir / "profiles.yml").read_text())
    return {name: os.environ.get(name, "") for name in sorted(set(names))}


def _stamp(project_dir: Path, state: Path) -> dict:
    return {**profile_environment(project_dir), "state_mtime_ns": state.stat().st_mtime_ns}


def is_current(project_dir: Path) -> bool:
    target = project_dir / "target"
    state, stamp = target / PARTIAL_PARSE_FILE, target / STAMP_FILE
    if not (state.exists() and stamp.exists()):
        return False
    return json.loads(stamp.read_text()) == _stamp(project_dir, state)


def ensure_partial_parse(project_dir: Path, dbt_executable: str) -> bool:
    """Parse the project with this process's environment unless the partial-parse state already
    matches it; return whether it parsed. The state is replaced atomically, so a dbt invocation
    starting meanwhile copies either the old file or the new one."""
    if is_current(project_dir):
        return False
    target = project_dir / "target"
    target.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix="parse-") as scratch:
        result = subprocess.run(
            [
                dbt_executable,
                "parse",
                "--quiet",
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(project_dir),
                "--target-path",
                scratch,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"dbt parse failed:\n{(result.stdout + result.stderr)[-4000:]}")
        os.replace(Path(scratch) / PARTIAL_PARSE_FILE, target / PARTIAL_PARSE_FILE)
    state = target / PARTIAL_PARSE_FILE
    # Written whole, then renamed: another process may be reading the stamp meanwhile.
    stamp = target / f"{STAMP_FILE}.{os.getpid()}"
    stamp.write_text(json.dumps(_stamp(project_dir, state)))
    os.replace(stamp, target / STAMP_FILE)
    return True
