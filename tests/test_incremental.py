"""The incremental models, after a nightly run, equal a full refresh of the same warehouse."""

from __future__ import annotations

import shutil

import duckdb

from orchestration import settings
from orchestration.identity.assets import canonicalise
from tests.incremental import (
    differences,
    full_refresh_copy,
    incremental_models,
    reprocessed_share,
    run_dbt,
)


def test_the_big_facts_are_incremental():
    assert {table for _, table in incremental_models()} >= {
        "int_identity__sightings",
        "int_identity__observations",
        "int_identity__record_customers",
        "fct_touchpoints",
        "int_journeys__journey_touches",
        "fct_journeys",
        "fct_attribution_credits",
        "customer_lifecycle_monthly",
        "int_customers__touch_records",
        "int_customers__touch_summary",
    }


def test_the_nightly_run_reprocessed_only_the_new_day(small_world):
    """The small world's last run loaded 1 of 60 days: the identity models, the touch records
    and fct_touchpoints rebuilt a small share of their rows (the new day, records re-resolved,
    the purchases that changed, every version of a member with a changed version), and the
    journeys every journey of the customers whose changed touch is closed or followed by a
    conversion, or whose conversions changed, and the non-converting journeys from the window
    an open touch closed into (14% of the journey touch rows in this 2,000-customer world; a
    new open touch that no conversion follows is in no journey yet); the attribution credits
    those customers', and every Markov credit (a sixth of the rows) only if the night's refit
    replaced the removal effects in force. The lifecycle mart rebuilt
    every customer's rows from the month the previous build's data ended in, plus the rows of
    customers whose earlier purchases changed: this night opens a month, so that is two of its
    three months."""
    shares = reprocessed_share(small_world.build_copy)
    with duckdb.connect(str(small_world.build_copy), read_only=True) as conn:
        (from_cutoff,) = conn.execute(
            "SELECT avg(CASE WHEN month_start >= date_trunc('month', last_day - 1) THEN 1.0"
            " ELSE 0 END) FROM marts.customer_lifecycle_monthly,"
            " (SELECT max(evaluated_on) AS last_day FROM marts.customer_lifecycle_monthly)"
        ).fetchone()
    assert from_cutoff <= shares.pop("marts.customer_lifecycle_monthly") < from_cutoff + 0.1
    assert 0 < shares.pop("intermediate.int_journeys__journey_touches") < 0.25
    assert 0 < shares.pop("marts.fct_journeys") < 0.2
    markov_rebuilt = 1 / 6 if _removal_effects_changed_in_the_night(small_world) else 0
    assert markov_rebuilt < shares.pop("marts.fct_attribution_credits") < markov_rebuilt + 0.15
    assert all(0 < share < 0.1 for share in shares.values()), shares


def _removal_effects_changed_in_the_night(world) -> bool:
    effects = "SELECT channel, removal_effect FROM {}predictions.markov_channel_attribution"
    with duckdb.connect(str(world.build_copy), read_only=True) as conn:
        conn.execute(f"ATTACH '{_published_before_the_night(world)}' AS before (READ_ONLY)")
        (changed,) = conn.execute(
            f"SELECT count(*) FROM ({effects.format('')} EXCEPT {effects.format('before.')})"
        ).fetchone()
    return changed > 0


def _markov_credit(warehouse, credit_key: str):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(
            "SELECT credited_revenue_cny FROM marts.fct_attribution_credits WHERE credit_key = ?",
            [credit_key],
        ).fetchone()[0]


def test_markov_credits_are_rebuilt_when_the_removal_effects_in_force_change(small_world, tmp_path):
    """With nothing new and the removal effects as they were, a night leaves every markov credit
    as it is (one altered by hand stays altered); once one channel's effect changes, it rebuilds
    every markov credit, as a full refresh would."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy2(small_world.build_copy, copy)
    with duckdb.connect(str(copy)) as conn:
        credit_key, channel, revenue = conn.execute(
            "SELECT credit_key, channel, credited_revenue_cny FROM marts.fct_attribution_credits"
            " WHERE attribution_model = 'markov' AND journey_touch_count > 1"
            " ORDER BY credit_key LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE marts.fct_attribution_credits SET credited_revenue_cny = ?"
            " WHERE credit_key = ?",
            [revenue + 1, credit_key],
        )
    assert run_dbt(copy, "run", "--select", "fct_attribution_credits").returncode == 0
    assert _markov_credit(copy, credit_key) == revenue + 1

    with duckdb.connect(str(copy)) as conn:
        conn.execute(
            "UPDATE predictions.markov_channel_attribution SET removal_effect = removal_effect / 2"
            " WHERE channel = ?",
            [channel],
        )
    night = run_dbt(copy, "run", "--select", "fct_attribution_credits")
    assert night.returncode == 0, night.stdout[-4000:]
    assert _markov_credit(copy, credit_key) != revenue + 1
    full = tmp_path / "full_refresh.duckdb"
    shutil.copy2(copy, full)
    rebuilt = run_dbt(full, "run", "--full-refresh", "--select", "fct_attribution_credits")
    assert rebuilt.returncode == 0, rebuilt.stdout[-4000:]
    assert differences(copy, full)["marts.fct_attribution_credits"] == (0, 0)


def test_the_nightly_run_equals_a_full_refresh(small_world, tmp_path):
    full = tmp_path / "full_refresh.duckdb"
    full_refresh_copy(small_world.build_copy, full)
    assert differences(small_world.build_copy, full) == {
        f"{schema}.{table}": (0, 0) for schema, table in incremental_models()
    }


def test_canonical_forms_after_the_nightly_run_are_those_of_the_values_now_seen(small_world):
    """The nightly run canonicalised only new raw values and dropped the unseen: the table must
    equal canonicalising every distinct raw value of the sightings afresh."""
    with duckdb.connect(str(small_world.build_copy), read_only=True) as conn:
        stored = conn.execute(
            "SELECT identity_type, identity_value_raw, identity_value, canonical_status "
            "FROM identity.identifier_canonical_forms"
        ).df()
        seen = conn.execute(
            "SELECT DISTINCT identity_type, identity_value_raw "
            "FROM intermediate.int_identity__sightings"
        ).df()
    expected = canonicalise(seen)
    key = ["identity_type", "identity_value_raw"]
    assert len(stored) == len(expected)
    merged = stored.merge(expected, on=key, how="outer", suffixes=("", "_fresh"), indicator=True)
    assert (merged._merge == "both").all()
    assert merged.identity_value.fillna("").eq(merged.identity_value_fresh.fillna("")).all()
    assert merged.canonical_status.eq(merged.canonical_status_fresh).all()


def test_touches_that_only_closed_rebuild_only_non_converting_journeys(small_world):
    """A customer whose only change in the night is that open touches closed (the data's end
    moved a day, so touches now lookback days old had their whole window to convert) keeps
    their converting journeys: the night rebuilt only their non-converting rows. The closing
    window is derived here from the touchpoints: after the data's end before the last export
    day minus the lookback, at or before the data's end now minus the lookback."""
    lookback = settings.dbt_var("attribution_lookback_days")
    with duckdb.connect(str(small_world.build_copy), read_only=True) as conn:
        rows = conn.execute(
            f"""
            WITH ends AS (
                SELECT
                    max(touched_at_local) FILTER (
                        WHERE export_day < (SELECT max(export_day) FROM marts.fct_touchpoints)
                    ) - INTERVAL {lookback} DAY AS previous_cutoff,
                    max(touched_at_local) - INTERVAL {lookback} DAY AS current_cutoff
                FROM marts.fct_touchpoints
            ),
            journey_touches AS (
                SELECT *, processed_through_utc = max(processed_through_utc) OVER () AS rebuilt
                FROM intermediate.int_journeys__journey_touches
            )
            SELECT
                customer_id,
                bool_or(touched_at_local > previous_cutoff AND touched_at_local <= current_cutoff
                    AND rebuilt) AS has_closing_touch
            FROM journey_touches, ends
            GROUP BY customer_id
            HAVING bool_or(rebuilt) AND bool_and(NOT rebuilt OR NOT is_converting)
                AND bool_or(is_converting)
            """
        ).fetchall()
    assert len(rows) >= 5  # 9 in this 2,000-customer world
    assert all(has_closing_touch for _, has_closing_touch in rows)


def test_a_table_built_before_its_model_was_incremental_asks_for_a_full_refresh(
    small_world, tmp_path
):
    """A warehouse of an earlier version holds the model as a plain table: the night stops with
    an error naming the fix, and a full refresh rebuilds it."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy2(small_world.build_copy, copy)
    with duckdb.connect(str(copy)) as conn:
        conn.execute("ALTER TABLE staging.stg_pos__receipts DROP COLUMN processed_through_utc")
    night = run_dbt(copy, "run", "--select", "stg_pos__receipts")
    assert night.returncode != 0
    assert "built without processed_through_utc" in night.stdout
    assert "--full-refresh" in night.stdout
    rebuilt = run_dbt(copy, "run", "--full-refresh", "--select", "stg_pos__receipts")
    assert rebuilt.returncode == 0, rebuilt.stdout[-4000:]


def _published_before_the_night(world) -> str:
    versions = sorted((world.warehouse.parent / "published").glob("warehouse-*.duckdb"))
    return str(versions[-2])


def test_the_rows_a_night_deleted_are_logged_with_their_customer(small_world):
    """audit.replaced_rows holds every row of fct_touchpoints, the journey touches and the touch
    records the night deleted, derived here by comparing the version published before the night
    with the build after it: each row that changed or vanished is logged with the customer it
    had and the night's stamp, each logged row existed before, and each logged row still there
    was rebuilt by the night. The models built from them read these instead of comparing their
    whole input."""
    logged_models = {
        "fct_touchpoints": "touchpoint_key",
        "int_journeys__journey_touches": "journey_key",
        # by source only: a member version's id holds the member id (see the model)
        "int_customers__touch_records": "record_source",
    }
    with duckdb.connect(str(small_world.build_copy), read_only=True) as conn:
        conn.execute(f"ATTACH '{_published_before_the_night(small_world)}' AS before (READ_ONLY)")
        for (schema, table), key in (
            (next(m for m in incremental_models() if m[1] == name), key)
            for name, key in logged_models.items()
        ):
            after, before = f"{schema}.{table}", f"before.{schema}.{table}"
            columns = ", ".join(c for c in _columns(conn, after) if c != "processed_through_utc")
            (stamp,) = conn.execute(f"SELECT max(processed_through_utc) FROM {after}").fetchone()
            logged = set(
                conn.execute(
                    "SELECT row_key, customer_id FROM audit.replaced_rows"
                    " WHERE model_name = ? AND replaced_through_utc = ?",
                    [table, stamp],
                ).fetchall()
            )
            deleted = set(
                conn.execute(
                    f"SELECT DISTINCT {key}, customer_id FROM (SELECT {columns} FROM {before}"
                    f" EXCEPT SELECT {columns} FROM {after})"
                ).fetchall()
            )
            held_before = set(
                conn.execute(f"SELECT DISTINCT {key}, customer_id FROM {before}").fetchall()
            )
            not_rebuilt = set(
                conn.execute(
                    f"SELECT DISTINCT {key}, customer_id FROM {after}"
                    " WHERE processed_through_utc < ?",
                    [stamp],
                ).fetchall()
            )
            assert len(deleted) >= 10, table
            assert deleted <= logged <= held_before, table
            if key != "record_source":  # a customer keeps other records of the source
                assert not logged & not_rebuilt, table


def _columns(conn, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [schema, name],
        ).fetchall()
    ]


def _record_a_change_of_the_latest_social_events_day(warehouse) -> None:
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(
            "INSERT INTO audit.partition_changes SELECT 'social_events', max(export_day),"
            " 'replaced', timezone('UTC', now()) FROM staging.stg_social__events"
        )


def _journey_touches_night(warehouse):
    night = run_dbt(warehouse, "run", "--select", "int_journeys__journey_touches")
    assert "audit.replaced_rows lacks rows fct_touchpoints deleted" in night.stdout, night.stdout
    assert "--full-refresh --select int_journeys__journey_touches+" in night.stdout
    return night


def test_touchpoints_rebuilt_in_full_alone_stop_the_journey_touches_night(small_world, tmp_path):
    """A full refresh logs no deletion: fct_touchpoints rebuilt in full after a change leaves a
    marker in the log, and the journey touches, built before it, stop and ask for a full
    refresh instead of keeping touches that may be gone."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy2(small_world.build_copy, copy)
    _record_a_change_of_the_latest_social_events_day(copy)
    rebuilt = run_dbt(copy, "run", "--full-refresh", "--select", "fct_touchpoints")
    assert rebuilt.returncode == 0, rebuilt.stdout[-4000:]
    assert _journey_touches_night(copy).returncode != 0


def test_deletions_expired_from_the_log_before_they_were_read_stop_the_night(small_world, tmp_path):
    """fct_touchpoints replaces a changed day's touches twice while the journey touches are not
    built; the second time with no retention, its first entries expire: a marker keeps their
    stamp and the journey touches stop. Read in time, the same entries let them run."""
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy2(small_world.build_copy, copy)
    _record_a_change_of_the_latest_social_events_day(copy)
    assert run_dbt(copy, "run", "--select", "fct_touchpoints").returncode == 0
    with duckdb.connect(str(copy), read_only=True) as conn:
        (first,) = conn.execute(
            "SELECT max(replaced_through_utc) FROM audit.replaced_rows"
            " WHERE model_name = 'fct_touchpoints' AND row_key <> '*'"
        ).fetchone()
        (first_entries,) = conn.execute(
            "SELECT count(*) FROM audit.replaced_rows"
            " WHERE model_name = 'fct_touchpoints' AND replaced_through_utc = ?",
            [first],
        ).fetchone()
    assert first_entries > 0
    in_time = tmp_path / "in_time.duckdb"
    shutil.copy2(copy, in_time)
    night = run_dbt(in_time, "run", "--select", "int_journeys__journey_touches")
    assert night.returncode == 0, night.stdout[-4000:]

    _record_a_change_of_the_latest_social_events_day(copy)
    no_retention = '{"replaced_rows_retention_days": 0}'
    assert (
        run_dbt(copy, "run", "--select", "fct_touchpoints", "--vars", no_retention).returncode == 0
    )
    with duckdb.connect(str(copy), read_only=True) as conn:
        left = conn.execute(
            "SELECT row_key, count(*) FROM audit.replaced_rows"
            " WHERE model_name = 'fct_touchpoints' AND replaced_through_utc = ? GROUP BY row_key",
            [first],
        ).fetchall()
    assert left == [("*", 1)]
    assert _journey_touches_night(copy).returncode != 0
