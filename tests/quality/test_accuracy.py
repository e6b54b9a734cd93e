from orchestration.quality.accuracy import below_target, day_below_target, day_z, wilson_upper_bound


def test_wilson_upper_bound_matches_a_hand_computed_value():
    # p = 0.97, n = 1000, z = 1.96: (0.97 + 0.0019208 + 0.0107462) / 1.0038416 = 0.978906
    assert abs(wilson_upper_bound(970, 1000) - 0.978906) < 1e-5


def test_small_partition_with_one_bad_row_is_not_evidence_of_a_bad_source():
    assert not below_target(19, 20, 0.98)


def test_large_partition_three_percent_bad_fails_a_98_percent_target():
    assert below_target(970, 1000, 0.98)
    assert not below_target(990, 1000, 0.98)


def test_a_day_is_judged_more_strictly_than_the_run_and_only_with_enough_rows():
    assert below_target(970, 1000, 0.98) and not day_below_target(970, 1000, 0.98)
    assert day_below_target(950, 1000, 0.98)  # a 5%-corrupt day fails on its own
    assert not day_below_target(30, 40, 0.98)  # too few rows to judge a day alone


def test_empty_partition_does_not_fail():
    assert not below_target(0, 0, 0.98)


def test_days_of_a_backfill_share_one_error_budget():
    assert abs(day_z(1) - 3.0902) < 1e-3  # a nightly run: 99.9% one-sided
    assert day_z(180) > 4.3  # each of 180 days at 99.9994%
    # 8 bad of 119: alarming for one night's load, chance among 180 days of a healthy source
    assert day_below_target(111, 119, 0.98, days_judged=1)
    assert not day_below_target(111, 119, 0.98, days_judged=180)
    assert day_below_target(60, 120, 0.98, days_judged=180)  # half corrupt fails regardless
