"""Every GX suite passes on a real (small) sample-world warehouse."""

from __future__ import annotations

import duckdb

from orchestration.quality.gx_suites import (
    describe_failures,
    load_suites,
    read_frame,
    summarise,
    validate_frame,
)


def test_every_suite_passes_on_the_small_world(small_world):
    failures = {}
    with duckdb.connect(str(small_world.warehouse), read_only=True) as conn:
        for suite in load_suites():
            frame = read_frame(conn, suite)
            result = validate_frame(frame, suite.suite, {"volume_floor": 0})
            if not result.success:
                failures[suite.name] = describe_failures(summarise(result, len(frame)))
    assert not failures, failures
