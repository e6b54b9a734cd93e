from dataclasses import replace
from pathlib import Path

import pytest

from orchestration.sample_world import LandingNotEmpty, generate_world
from orchestration.sample_world.__main__ import main

from .conftest import TINY


def _snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(tiny_world, tmp_path):
    generate_world(TINY, tmp_path)
    assert _snapshot(tmp_path) == _snapshot(tiny_world)


def test_different_seed_gives_different_files(tiny_world, tmp_path):
    generate_world(replace(TINY, seed=TINY.seed + 1), tmp_path)
    ours, theirs = _snapshot(tmp_path), _snapshot(tiny_world)
    shared = set(ours) & set(theirs)
    assert sum(ours[name] != theirs[name] for name in shared) > len(shared) / 2


def test_refuses_non_empty_landing_unless_forced(tmp_path):
    small = replace(TINY, customers=50, days=3)
    generate_world(small, tmp_path)
    with pytest.raises(LandingNotEmpty):
        generate_world(small, tmp_path)
    (tmp_path / "landing" / "stray.txt").write_text("x")
    generate_world(small, tmp_path, force=True)
    assert not (tmp_path / "landing" / "stray.txt").exists()


def test_cli_writes_landing_and_truth(tmp_path, capsys):
    args = ["--customers", "40", "--days", "3", "--seed", "3", "--out", str(tmp_path)]
    assert main(args) == 0
    assert (tmp_path / "truth" / "persons.parquet").exists()
    assert '"pos_receipts"' in capsys.readouterr().out
    assert main(args) == 2  # landing is not empty now
    assert main([*args, "--force"]) == 0
