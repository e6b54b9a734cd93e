"""Write-audit-publish and erasure, end to end on a copy of the small world."""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace

import duckdb
import pandas as pd
import pytest

from orchestration.identity.keyed_hash import DEVELOPMENT_KEY, keyed_hash
from orchestration.privacy.erasure import match_key
from tests.incremental import differences, full_refresh_copy, incremental_models
from tests.worlds import World, run_pipeline


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def world_copy(small_world, tmp_path) -> World:
    root = tmp_path / "world"
    shutil.copytree(small_world.root, root)
    return replace(small_world, root=root)


def _corrupt_one_day(world: World) -> str:
    """Append 6% rows with an unknown store to the busiest POS receipts file."""
    files = sorted((world.landing / "pos_receipts").glob("*/*.csv"), key=lambda p: p.stat().st_size)
    target = files[-1]
    encoding = "gb18030" if b"\xef\xbb\xbf" not in target.read_bytes()[:3] else "utf-8-sig"
    text = target.read_bytes().decode(encoding)
    lines = text.rstrip("\n").split("\n")
    bad_rows = max(len(lines) // 16, 60)
    template = lines[1].split(",")
    extra = []
    for n in range(bad_rows):
        row = list(template)
        row[0], row[1] = f"CORRUPT{n}", "S9999"
        extra.append(",".join(row))
    target.write_bytes(("\n".join(lines + extra) + "\n").encode(encoding))
    return target.parent.name


def test_a_corrupted_source_blocks_downstream_and_leaves_the_published_warehouse(world_copy):
    before = _digest(world_copy.warehouse)
    day = _corrupt_one_day(world_copy)
    result = run_pipeline(world_copy)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"pos_receipts {day}" in output and "unknown_reference:store_id" in output
    assert "FAILED raw/pos_receipts :: valid_row_share" in result.stdout
    assert _digest(world_copy.warehouse) == before


def test_killed_run_reader_safety_and_erasure_on_the_next_run(world_copy, tmp_path):
    """One rebuild of the small world (building is what costs) shows three things:
    1. a run killed midway leaves the published warehouse byte-identical;
    2. the next run succeeds while a reader queries the published warehouse throughout;
    3. after that next run, the person of a deletion request has no trace left anywhere in the
       published warehouse (the first build learned the person's other identifiers);
    4. the incremental models applied those erasures exactly as a full refresh would."""
    before = _digest(world_copy.warehouse)
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestration.run_pipeline"],
        env=world_copy.environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(25)  # past ingest, into the dbt build
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _digest(world_copy.warehouse) == before

    errors, reads, done = [], [], threading.Event()

    def read_continuously():
        while not done.is_set():
            try:
                with duckdb.connect(str(world_copy.warehouse), read_only=True) as conn:
                    reads.append(conn.execute("SELECT count(*) FROM marts.fct_orders").fetchone())
            except Exception as exc:  # any failure is what this test looks for
                errors.append(repr(exc))
            time.sleep(0.05)

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        assert run_pipeline(world_copy).returncode == 0
    finally:
        done.set()
        reader.join()
    assert errors == [] and len(reads) > 20
    assert _digest(world_copy.warehouse) != before  # the new build was published
    assert _traces_of_deleted_people(world_copy) == []
    _assert_erasure_reached_the_incremental_models(world_copy, tmp_path)


def _assert_erasure_reached_the_incremental_models(world: World, tmp_path) -> None:
    with duckdb.connect(str(world.warehouse), read_only=True) as conn:
        erased_days = conn.execute(
            "SELECT count(*) FROM audit.partition_changes WHERE change = 'erased'"
        ).fetchall()[0][0]
    assert erased_days > 0  # the run erased raw rows: the incremental models had work to do
    full = tmp_path / "full_refresh.duckdb"
    full_refresh_copy(world.warehouse, full)
    assert differences(world.warehouse, full) == {
        f"{schema}.{table}": (0, 0) for schema, table in incremental_models()
    }


def _traces_of_deleted_people(world: World) -> list[tuple]:
    """Values anywhere in the published warehouse that are identifiers of a person who asked to
    be erased, among those the warehouse could tie to the request: the truth's identifiers whose
    keyed hashes the erasure recorded. (An account that no record links to the person's phone or
    member id cannot be known to be theirs; the assertion on coverage below keeps this honest.)"""
    persons = pd.read_parquet(world.truth / "persons.parquet")
    deleted = set(persons.loc[persons.is_deleted_request, "person_id"])
    assert deleted, "the small world must contain a deletion request"
    identities = pd.read_parquet(world.truth / "identities.parquet")
    theirs = identities[identities.person_id.isin(deleted)]
    keys = [
        match_key(v, "phone" if t == "phone" else "identifier")
        for t, v in zip(theirs.identity_type, theirs.identity_value, strict=True)
    ]
    hashes = keyed_hash(pd.Series(keys).fillna(""), DEVELOPMENT_KEY.encode())
    with duckdb.connect(str(world.warehouse), read_only=True) as conn:
        erased = {
            h
            for (h,) in conn.execute(
                "SELECT identity_hash FROM privacy.erased_identities"
            ).fetchall()
        }
        values = theirs.identity_value[hashes.isin(erased).to_numpy()]
        assert len(values) >= 2 * len(deleted)  # more than the request's own phone or member id
        needles = set(values) | {v[3:] for v in values if v.startswith("+86")}
        found = []
        columns = conn.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema NOT IN ('information_schema', "
            "'pg_catalog')"
        ).fetchall()
        for schema, table, column in columns:
            distinct = conn.execute(
                f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL'
            ).fetchall()
            found += [
                (schema, table, column, v) for (v,) in distinct if any(n in v for n in needles)
            ]
    return found
