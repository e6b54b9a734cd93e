from orchestration.quality.accuracy import below_target, day_below_target, wilson_upper_bound


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
