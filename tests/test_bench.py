"""The benchmark's stage accounting: pure functions over a run's step timings."""

from __future__ import annotations

import json

import pytest

from orchestration.bench import node_stage, stages, step_stage_seconds


@pytest.mark.parametrize(
    ("key", "stage"),
    [
        ("staging/stg_pos__receipts", "staging"),
        ("reference/identity_types", "staging"),
        ("intermediate/int_identity__edges", "identity"),
        ("intermediate/int_journeys__journey_touches", "marts"),
        ("marts/fct_orders", "marts"),
        ("marts/fct_orders:not_null_fct_orders_order_key", "checks"),
    ],
)
def test_dbt_nodes_belong_to_the_stage_of_their_layer(key, stage):
    assert node_stage(key) == stage


def test_a_dbt_step_is_shared_out_by_the_time_dbt_reported_per_node():
    # 30 s of wall time; dbt reported 2 s of staging, 6 s of identity, 8 s of marts models
    # and 4 s of tests: shares 10%, 30%, 40%, 20%
    step = {
        "step": "dbt_models_2",
        "seconds": 30.0,
        "assets": [],
        "node_seconds": {
            "staging/stg_pos__receipts": 2.0,
            "intermediate/int_identity__edges": 6.0,
            "marts/fct_orders": 5.0,
            "intermediate/int_orders__orders": 3.0,
            "marts/fct_orders:unique_fct_orders_order_key": 4.0,
        },
    }
    assert step_stage_seconds(step) == pytest.approx(
        {"staging": 3.0, "identity": 9.0, "marts": 12.0, "checks": 6.0}
    )


@pytest.mark.parametrize(
    ("step", "assets", "stage"),
    [
        ("raw__pos_receipts", ["raw/pos_receipts"], "ingest"),
        ("privacy__erasure", ["privacy/erasure_log"], "erasure"),
        ("identity__customer_identity_map", ["identity/customer_identity_map"], "identity"),
        ("predictions__customer_clv", ["predictions/customer_clv"], "marts"),
        ("marts__fct_orders_gx_marts__fct_orders", [], "checks"),
        ("published_warehouse", ["published_warehouse"], "publish"),
    ],
)
def test_other_steps_take_the_stage_of_what_they_made(step, assets, stage):
    assert step_stage_seconds({"step": step, "seconds": 5.0, "assets": assets}) == {stage: 5.0}


def test_stage_peaks_come_from_the_samples_taken_during_their_steps(tmp_path):
    timings = tmp_path / "timings.json"
    steps = [
        {"step": "raw__a", "seconds": 10.0, "started_at": 100.0, "ended_at": 110.0,
         "assets": ["raw/a"]},
        {"step": "dbt_models", "seconds": 10.0, "started_at": 110.0, "ended_at": 120.0,
         "assets": [], "node_seconds": {"marts/x": 1.0, "marts/x:t": 1.0}},
    ]  # fmt: skip
    timings.write_text(json.dumps({"build": steps}))
    samples = [(99.0, 9000.0), (105.0, 300.0), (109.0, 500.0), (115.0, 2000.0), (121.0, 9000.0)]
    seconds, peaks = stages(timings, samples)
    assert seconds == pytest.approx({"ingest": 10.0, "marts": 5.0, "checks": 5.0})
    # the samples before the first step and after the last belong to no stage
    assert peaks == {"ingest": 500.0, "marts": 2000.0, "checks": 2000.0}
