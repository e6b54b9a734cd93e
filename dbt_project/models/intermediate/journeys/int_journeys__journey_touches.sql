{#-
    Every identified marketing touch placed in its journey, plus one direct touch per conversion
    that no marketing touch precedes. Definitions (journeys_docs.md, `journey`):
    - a touch belongs to the next conversion of its customer (the first valid sale at or after
      it) when that conversion is at most var('attribution_lookback_days') days later: the
      converting journey of that conversion;
    - other touches are unconverted. Those at least lookback days before the data's last touch
      (closed: they had the whole window to convert) form non-converting journeys, one per
      customer and lookback-day window counted from the customer's first unconverted touch;
      later ones are still open and belong to no journey yet;
    - a conversion with no touch in its window gets one `direct` touch on its sales channel at
      the conversion time, carrying the order's campaign.
-#}
{%- set record_key = ['customer_id', 'journey_key'] %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
    log_replaced_rows='journey_key',
) }}
{%- set lookback_days = var('attribution_lookback_days') %}
with

touchpoints as {{ inlined() }} (

    select * from {{ ref('fct_touchpoints') }}

),

all_conversions as (

    select * from {{ ref('int_journeys__conversions') }}

),

all_marketing_touches as (

    select
        touchpoint_key,
        customer_id,
        channel,
        touchpoint_type,
        campaign_id,
        touched_at_local,
        processed_through_utc
    from touchpoints
    where
        is_marketing_touch
        and customer_id is not null

),

data_end as (

    select max(touched_at_local) as last_touched_at_local
    from touchpoints

),
{%- if is_incremental() %}

{{ journey_customers_to_rebuild(lookback_days) }}

marketing_touches as (

    select all_marketing_touches.*
    from all_marketing_touches
    inner join customers_to_rebuild
        on all_marketing_touches.customer_id = customers_to_rebuild.customer_id

),

conversions as (

    select all_conversions.*
    from all_conversions
    inner join customers_to_rebuild
        on all_conversions.customer_id = customers_to_rebuild.customer_id

),

-- the closed unconverted touches of the closing customers' rebuilt windows: those this model
-- holds, and those that closed now (none of theirs converted, or their conversions would have
-- changed), with the customer's first closed unconverted touch that anchors the windows
closing_unconverted as (

    select
        touchpoint_key,
        customer_id,
        channel,
        touchpoint_type,
        campaign_id,
        touched_at_local,
        first_unconverted_at_local
    from closing_journeys

    union all

    select
        closing_touches.touchpoint_key,
        closing_touches.customer_id,
        closing_touches.channel,
        closing_touches.touchpoint_type,
        closing_touches.campaign_id,
        closing_touches.touched_at_local,
        closing_windows.first_unconverted_at_local
    from closing_touches
    inner join closing_windows
        on closing_touches.customer_id = closing_windows.customer_id

),
{%- else %}

marketing_touches as (

    select * from all_marketing_touches

),

conversions as (

    select * from all_conversions

),
{%- endif %}

-- touches and conversions of a customer on one time line; touches sort before a conversion
-- at the same instant, so the number of conversions before a touch names its next conversion
timeline as (

    select
        customer_id,
        touchpoint_key,
        touched_at_local as happened_at_local,
        0 as is_conversion
    from marketing_touches

    union all

    select
        customer_id,
        order_key as touchpoint_key,
        converted_at_local as happened_at_local,
        1 as is_conversion
    from conversions

),

numbered as (

    select
        customer_id,
        touchpoint_key,
        is_conversion,
        sum(is_conversion) over (
            partition by customer_id
            order by happened_at_local asc, is_conversion asc, touchpoint_key asc
            rows between unbounded preceding and current row
        ) + 1 as next_conversion_number
    from timeline

),

touch_next_conversion as (

    select
        marketing_touches.touchpoint_key,
        marketing_touches.customer_id,
        marketing_touches.channel,
        marketing_touches.touchpoint_type,
        marketing_touches.campaign_id,
        marketing_touches.touched_at_local,
        conversions.order_key,
        conversions.converted_at_local
    from marketing_touches
    inner join numbered
        on
            marketing_touches.touchpoint_key = numbered.touchpoint_key
            and numbered.is_conversion = 0
    left join conversions
        on
            numbered.customer_id = conversions.customer_id
            and numbered.next_conversion_number = conversions.conversion_number
            and conversions.converted_at_local
            <= {{ dbt.dateadd('day', lookback_days, 'marketing_touches.touched_at_local') }}

),

converting_touches as (

    select
        order_key as journey_key,
        true as is_converting,
        false as is_direct,
        order_key,
        customer_id,
        touchpoint_key,
        channel,
        touchpoint_type,
        campaign_id,
        touched_at_local
    from touch_next_conversion
    where order_key is not null

),

unconverted_touches as (

    select
        touch_next_conversion.touchpoint_key,
        touch_next_conversion.customer_id,
        touch_next_conversion.channel,
        touch_next_conversion.touchpoint_type,
        touch_next_conversion.campaign_id,
        touch_next_conversion.touched_at_local,
        cast(null as {{ dbt.type_timestamp() }}) as first_unconverted_at_local
    from touch_next_conversion
    cross join data_end
    where
        touch_next_conversion.order_key is null
        and touch_next_conversion.touched_at_local
        <= {{ dbt.dateadd('day', -lookback_days, 'data_end.last_touched_at_local') }}
    {%- if is_incremental() %}

    union all

    select * from closing_unconverted
    {%- endif %}

),

unconverted as (

    select
        touchpoint_key,
        customer_id,
        channel,
        touchpoint_type,
        campaign_id,
        touched_at_local,
        coalesce(
            first_unconverted_at_local,
            min(touched_at_local) over (partition by customer_id)
        ) as first_unconverted_at_local
    from unconverted_touches

),

non_converting_touches as (

    select
        {{ dbt.hash(dbt.concat([
            "'none:'", 'customer_id', "':'",
            'cast(' ~ non_converting_window('first_unconverted_at_local', 'touched_at_local',
                lookback_days) ~ ' as ' ~ dbt.type_string() ~ ')'
        ])) }} as journey_key,
        false as is_converting,
        false as is_direct,
        cast(null as {{ dbt.type_string() }}) as order_key,
        customer_id,
        touchpoint_key,
        channel,
        touchpoint_type,
        campaign_id,
        touched_at_local
    from unconverted

),

direct_touches as (

    select
        conversions.order_key as journey_key,
        true as is_converting,
        true as is_direct,
        conversions.order_key,
        conversions.customer_id,
        {{ dbt.hash(dbt.concat(["'direct:'", 'conversions.order_key'])) }} as touchpoint_key,
        conversions.sales_channel as channel,
        'direct' as touchpoint_type,
        conversions.campaign_id,
        conversions.converted_at_local as touched_at_local
    from conversions
    left join converting_touches
        on conversions.order_key = converting_touches.order_key
    where converting_touches.order_key is null

),

journey_touches as (

    select * from converting_touches
    union all
    select * from direct_touches
    union all
    select * from non_converting_touches

),

sequenced as (

    select
        journey_touches.*,
        row_number() over (
            partition by journey_touches.journey_key
            order by journey_touches.touched_at_local asc, journey_touches.touchpoint_key asc
        ) as touch_sequence,
        count(*) over (partition by journey_touches.journey_key) as journey_touch_count
    from journey_touches

),

journey_rows as (

    select
        sequenced.journey_key,
        sequenced.is_converting,
        sequenced.is_direct,
        sequenced.order_key,
        sequenced.customer_id,
        sequenced.touchpoint_key,
        sequenced.channel,
        sequenced.touchpoint_type,
        sequenced.campaign_id,
        sequenced.touched_at_local,
        cast(sequenced.touched_at_local as date) as touch_date_local,
        sequenced.touch_sequence,
        sequenced.journey_touch_count,
        conversions.converted_at_local,
        conversions.conversion_date_local,
        conversions.conversion_month,
        conversions.is_first_purchase,
        conversions.revenue_cny,
        -- fractional days from the touch to the conversion (null for non-converting journeys)
        {{ dbt.datediff('sequenced.touched_at_local', 'conversions.converted_at_local', 'second') }}
        / 86400.0 as days_before_conversion
    from sequenced
    left join conversions
        on sequenced.order_key = conversions.order_key

)
{%- if is_incremental() %},

-- the held rows of the journeys rebuilt; the incremental branch runs on DuckDB only
-- (records_materialization), whose `exclude` keeps the other columns in their order
held_journey_rows as (

    select * exclude (processed_through_utc)
    from {{ this }} as this_rows
    where
        this_rows.customer_id in (select customer_id from customers_to_rebuild)
        or this_rows.journey_key in (select journey_key from closing_journeys)

),

-- a journey is replaced whole (its touches are numbered within it), and only if one of its
-- rows differs from those held or it is gone: at 1M customers a night rebuilt 162,000
-- journeys of which 101,000 changed, and the models built from this one rebuild only those
changed_journeys as (

    select customer_id, journey_key from (
        select * from journey_rows
        except
        select * from held_journey_rows
    ) as appeared_or_changed

    union

    select customer_id, journey_key from (
        select * from held_journey_rows
        except
        select * from journey_rows
    ) as vanished_or_changed

),

changed_journey_rows as (

    select journey_rows.*
    from journey_rows
    inner join changed_journeys
        on
            journey_rows.customer_id = changed_journeys.customer_id
            and journey_rows.journey_key = changed_journeys.journey_key

)
{%- endif %}

{{ replace_records_batch(
    'changed_journey_rows' if is_incremental() else 'journey_rows',
    '(this_rows.customer_id, this_rows.journey_key) in'
    ~ ' (select customer_id, journey_key from changed_journeys)',
    with_identity=true,
    record_key=record_key,
    held_rows='held_journey_rows') }}
