{#-
    What a nightly run of int_journeys__journey_touches rebuilds.
    `customers_to_rebuild`: all the journeys of each, since a customer's journeys are numbered
    and windowed together:
    - a marketing touch of theirs was (re)built by fct_touchpoints after this model's watermark
      (new, changed, re-resolved to them) that is closed or followed by a conversion of theirs,
      or this model placed one for them that has since been rebuilt (re-resolved elsewhere, no
      longer a marketing touch) or deleted;
    - a conversion of theirs appeared, vanished or changed (time, revenue, first purchase; for
      a direct touch, its channel and campaign);
    - a closed unconverted touch of theirs reopened as the data's end moved back.
    `closing_customers`, the others with an open touch that closed as the data's end moved
    (touched after the previous close cutoff, at or before the new one, and not yet held in a
    journey: a touch in a converting journey never closes): nothing else of theirs
    changed, so their converting journeys stand and only their non-converting journeys from the
    first window that takes a touch that closed now are rebuilt, from the closed unconverted
    touches this model holds in them plus the touches that closed now and sit in no converting
    journey. The previous cutoff is taken as the newest closed
    non-converting touch this model holds, never later than the true one, so the window can
    only be too wide.
    Expects the CTEs `all_marketing_touches`, `all_conversions` and `data_end`;
    ends with `customers_to_rebuild`, `closing_customers`, `closing_windows` (each closing
    customer's first unconverted touch), `closing_journeys` (the held rows of the journeys
    they rebuild) and a trailing comma.
-#}
{% macro journey_customers_to_rebuild(lookback_days) %}
-- inlined: buffering all the model's rows first took 26 of a 39 s night at 1M customers
previous_touches as {{ inlined() }} (

    select
        customer_id,
        journey_key,
        touchpoint_key,
        is_direct,
        is_converting,
        order_key,
        channel,
        touchpoint_type,
        campaign_id,
        touched_at_local,
        converted_at_local,
        is_first_purchase,
        revenue_cny
    from {{ this }}

),

watermark as (

    select {{ incremental_watermark() }} as processed_through_utc

),

close_cutoffs as (

    select
        (
            select coalesce(max(touched_at_local), cast('1970-01-01' as timestamp))
            from previous_touches
            where not is_converting
        ) as previous_cutoff_local,
        {{ dbt.dateadd('day', -lookback_days, 'data_end.last_touched_at_local') }}
        as current_cutoff_local
    from data_end

),

rebuilt_touch_customers as (

    -- an open touch that no conversion of its customer follows is in no journey yet: it waits
    -- for its close (closing_customers) or a conversion (changed_conversion_customers). At 1M
    -- customers, 63k of the 71k customers a night touched had only such touches
    select all_marketing_touches.customer_id
    from all_marketing_touches
    cross join watermark
    cross join close_cutoffs
    where
        all_marketing_touches.processed_through_utc > watermark.processed_through_utc
        and (
            all_marketing_touches.touched_at_local <= close_cutoffs.current_cutoff_local
            or exists (
                select 1 from all_conversions
                where
                    all_conversions.customer_id = all_marketing_touches.customer_id
                    and all_conversions.converted_at_local
                    >= all_marketing_touches.touched_at_local
            )
        )

    union

    -- a touch this model placed for them that fct_touchpoints has since replaced (re-resolved,
    -- changed, no longer a marketing touch) or deleted, from the rows it logged: looking every
    -- held touch up among all the touchpoints took 11.5 s alone at 1M customers
    select previous_touches.customer_id
    from previous_touches
    inner join (
        {{ replaced_rows_since_watermark('fct_touchpoints') }}
    ) as replaced_touchpoints
        on previous_touches.touchpoint_key = replaced_touchpoints.row_key
    where not previous_touches.is_direct

),

previous_conversions as (

    select distinct
        customer_id,
        order_key,
        converted_at_local,
        is_first_purchase,
        revenue_cny
    from previous_touches
    where is_converting

),

current_conversions as (

    select
        customer_id,
        order_key,
        converted_at_local,
        is_first_purchase,
        revenue_cny
    from all_conversions

),

changed_conversion_customers as (

    select customer_id from (
        select * from current_conversions
        except
        select * from previous_conversions
    ) as appeared_or_changed

    union

    select customer_id from (
        select * from previous_conversions
        except
        select * from current_conversions
    ) as vanished_or_changed

    union

    select previous_touches.customer_id
    from previous_touches
    inner join all_conversions
        on previous_touches.order_key = all_conversions.order_key
    where
        previous_touches.is_direct
        and (
            previous_touches.channel is distinct from all_conversions.sales_channel
            or previous_touches.campaign_id is distinct from all_conversions.campaign_id
        )

),

reopening_customers as (

    select previous_touches.customer_id
    from previous_touches
    cross join close_cutoffs
    where
        not previous_touches.is_converting
        and previous_touches.touched_at_local > close_cutoffs.current_cutoff_local

),

customers_to_rebuild as (

    select customer_id from rebuilt_touch_customers
    union
    select customer_id from changed_conversion_customers
    union
    select customer_id from reopening_customers

),

-- open touches that closed now: those this model holds already closed or in a converting
-- journey are not among them. The day's window is cut first, so that only its touches are
-- looked up in the model (matching every marketing touch, then filtering, took 13 s of a 30 s
-- night at 1M customers)
window_touches as (

    select all_marketing_touches.*
    from all_marketing_touches
    cross join close_cutoffs
    where
        all_marketing_touches.touched_at_local > close_cutoffs.previous_cutoff_local
        and all_marketing_touches.touched_at_local <= close_cutoffs.current_cutoff_local

),

-- those of the window this model holds, found by a join that hashes the window's few touches,
-- not the model's millions (a not exists did: 6 of a 22 s night at 1M customers)
held_window_touches as (

    select previous_touches.touchpoint_key
    from previous_touches
    inner join window_touches
        on previous_touches.touchpoint_key = window_touches.touchpoint_key

),

closing_touches as (

    select window_touches.*
    from window_touches
    left join held_window_touches
        on window_touches.touchpoint_key = held_window_touches.touchpoint_key
    where held_window_touches.touchpoint_key is null

),

closing_customers as (

    select distinct closing_touches.customer_id
    from closing_touches
    left join customers_to_rebuild
        on closing_touches.customer_id = customers_to_rebuild.customer_id
    where customers_to_rebuild.customer_id is null

),

-- a closing customer's non-converting windows stay anchored on their first closed touch, and
-- the touches that closed now are later than every one held: only the windows from the first
-- that takes one of them on change, the earlier ones stand
closing_windows as (

    select
        closing_customers.customer_id,
        coalesce(held.first_unconverted_at_local, closing.first_closing_at_local)
        as first_unconverted_at_local,
        closing.first_closing_at_local
    from closing_customers
    inner join (
        select customer_id, min(touched_at_local) as first_closing_at_local
        from closing_touches
        group by customer_id
    ) as closing
        on closing_customers.customer_id = closing.customer_id
    left join (
        select previous_touches.customer_id, min(previous_touches.touched_at_local)
        as first_unconverted_at_local
        from previous_touches
        inner join closing_customers
            on previous_touches.customer_id = closing_customers.customer_id
        where not previous_touches.is_converting
        group by previous_touches.customer_id
    ) as held
        on closing_customers.customer_id = held.customer_id

),

-- the non-converting journeys this model holds in those windows: rebuilt with the closing touches
closing_journeys as (

    select
        previous_touches.customer_id,
        previous_touches.journey_key,
        previous_touches.touchpoint_key,
        previous_touches.channel,
        previous_touches.touchpoint_type,
        previous_touches.campaign_id,
        previous_touches.touched_at_local,
        closing_windows.first_unconverted_at_local
    from previous_touches
    inner join closing_windows
        on previous_touches.customer_id = closing_windows.customer_id
    where
        not previous_touches.is_converting
        and {{ non_converting_window(
            'closing_windows.first_unconverted_at_local', 'previous_touches.touched_at_local',
            lookback_days) }}
        >= {{ non_converting_window(
            'closing_windows.first_unconverted_at_local', 'closing_windows.first_closing_at_local',
            lookback_days) }}

),

{%- endmacro %}

{#-
    For a model built from int_journeys__journey_touches and incremental by customer: the
    customers with a row of `current_touches` (the CTE of journey touches the model is built
    from) rebuilt after this model's watermark, and those with a journey held here whose journey
    touch rows were deleted since (logged by journey_key; `held_journey_key` is this model's
    column holding it: a converting journey's key is its order_key), so that those who have
    none left lose their rows. A model of converting journeys only thus skips the customers
    whose non-converting journeys alone were rebuilt or removed.
-#}
{% macro customers_with_rebuilt_journey_touches(current_touches, held_journey_key) %}
    select {{ current_touches }}.customer_id
    from {{ current_touches }}
    where {{ current_touches }}.processed_through_utc > {{ incremental_watermark() }}

    union

    select this_rows.customer_id
    from {{ this }} as this_rows
    where this_rows.{{ held_journey_key }} in (
        select replaced.row_key
        from ({{ replaced_rows_since_watermark('int_journeys__journey_touches') }}) as replaced
    )
{%- endmacro %}

{#-
    The lookback-day window, counted from the customer's first closed unconverted touch, that
    a closed unconverted touch falls in: its non-converting journey.
-#}
{% macro non_converting_window(first_unconverted_at, touched_at, lookback_days) -%}
    floor({{ dbt.datediff('cast(' ~ first_unconverted_at ~ ' as date)',
        'cast(' ~ touched_at ~ ' as date)', 'day') }} / {{ lookback_days }})
{%- endmacro %}
