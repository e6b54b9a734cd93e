"""Publishing and rollback on small DuckDB files."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.publish.files import publish, rollback, versions


def _write(path, value: int) -> None:
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE OR REPLACE TABLE t AS SELECT ? AS v", [value])


def _read(path) -> int:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute("SELECT v FROM t").fetchone()[0]


@pytest.fixture
def paths(tmp_path):
    return tmp_path / "build" / "w.duckdb", tmp_path / "w.duckdb", tmp_path / "published"


def test_publish_keeps_the_last_n_versions_and_swaps_the_published_file(paths):
    build, published, versions_dir = paths
    build.parent.mkdir()
    for value in range(4):
        _write(build, value)
        publish(build, published, versions_dir, keep=2)
        assert _read(published) == value
    kept = versions(versions_dir)
    assert [_read(v) for v in kept] == [2, 3]
    assert _publications(kept[-1]) == _publications(build)
    assert _publications(build)[-2:] == [v.name for v in kept]


def test_a_reader_of_the_old_file_is_undisturbed_by_a_publish(paths):
    build, published, versions_dir = paths
    build.parent.mkdir()
    _write(build, 1)
    publish(build, published, versions_dir, keep=3)
    reader = duckdb.connect(str(published), read_only=True)
    _write(build, 2)
    publish(build, published, versions_dir, keep=3)
    assert reader.execute("SELECT v FROM t").fetchone()[0] == 1  # still its own snapshot
    reader.close()
    assert _read(published) == 2


def test_rollback_publishes_the_previous_version_and_resets_the_build(paths):
    build, published, versions_dir = paths
    build.parent.mkdir()
    for value in (1, 2):
        _write(build, value)
        publish(build, published, versions_dir, keep=5)
    rollback(published, versions_dir, build)
    assert _read(published) == 1 and _read(build) == 1
    assert len(versions(versions_dir)) == 1
    with pytest.raises(RuntimeError, match="nothing to roll back"):
        rollback(published, versions_dir, build)


def _publications(build) -> list[str]:
    with duckdb.connect(str(build), read_only=True) as conn:
        return [row[0] for row in conn.execute("SELECT version FROM audit.publications").fetchall()]


def test_a_failed_copy_publishes_nothing_and_leaves_no_publication_on_record(paths, monkeypatch):
    build, published, versions_dir = paths
    build.parent.mkdir()
    _write(build, 1)
    first = publish(build, published, versions_dir, keep=3)
    _write(build, 2)

    def disk_full(source, target):
        with open(target, "wb") as partial:
            partial.write(b"half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("orchestration.publish.files.shutil.copy2", disk_full)
    with pytest.raises(OSError, match="No space left"):
        publish(build, published, versions_dir, keep=3)
    assert _publications(build) == [first.name]
    assert versions(versions_dir) == [first]
    assert not list(versions_dir.glob("*.partial"))
    assert _read(published) == 1
