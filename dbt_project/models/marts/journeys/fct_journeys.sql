{#-
    One row per journey (journeys_docs.md, `journey`): converting journeys end in a conversion
    (a valid sale of an identified customer), non-converting journeys are a customer's touches
    in a lookback-day window that no conversion followed within the lookback. Paths in three
    transforms: every touch, consecutive repeats of a channel removed, first touch per channel.
    Incremental by journey, following int_journeys__journey_touches (which replaces only the
    journeys that changed): a night rebuilds the journeys whose touches it rebuilt or removed,
    and those whose conversion moved to another sales channel (the one conversion field the
    journey touches do not carry).
-#}
{%- set record_key = 'journey_key' %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}
with

all_journey_touches as {{ inlined() }} (

    select * from {{ ref('int_journeys__journey_touches') }}

),

conversions as (

    select * from {{ ref('int_journeys__conversions') }}

),
{%- if is_incremental() %}

journeys_to_rebuild as (

    select rebuilt.row_key as journey_key
    from (
        {{ keys_rebuilt_since_watermark('int_journeys__journey_touches', 'journey_key') }}
    ) as rebuilt

    union

    select this_rows.journey_key
    from {{ this }} as this_rows
    inner join conversions
        on this_rows.order_key = conversions.order_key
    where this_rows.conversion_sales_channel is distinct from conversions.sales_channel

),

journey_touches as (

    select all_journey_touches.*
    from all_journey_touches
    inner join journeys_to_rebuild
        on all_journey_touches.journey_key = journeys_to_rebuild.journey_key

),
{%- else %}

journey_touches as (

    select * from all_journey_touches

),
{%- endif %}

flagged as (

    select
        journey_key,
        channel,
        touch_sequence,
        coalesce(
            channel = lag(channel) over (partition by journey_key order by touch_sequence asc),
            false
        ) as is_channel_repeat,
        row_number() over (
            partition by journey_key, channel order by touch_sequence asc
        ) as channel_touch_number
    from journey_touches

),

path_full as (

    select
        journey_key,
        {{ dbt.listagg('channel', "' > '", 'order by touch_sequence') }} as channel_path
    from flagged
    group by journey_key

),

path_deduplicated as (

    select
        journey_key,
        {{ dbt.listagg('channel', "' > '", 'order by touch_sequence') }} as channel_path
    from flagged
    where not is_channel_repeat
    group by journey_key

),

path_first_touch_per_channel as (

    select
        journey_key,
        {{ dbt.listagg('channel', "' > '", 'order by touch_sequence') }} as channel_path
    from flagged
    where channel_touch_number = 1
    group by journey_key

),

journeys as (

    select
        journey_key,
        customer_id,
        order_key,
        is_converting,
        is_direct,
        min(touched_at_local) as first_touched_at_local,
        max(touched_at_local) as last_touched_at_local,
        count(*) as touch_count,
        count(distinct channel) as channel_count,
        count(distinct campaign_id) as campaign_count
    from journey_touches
    group by journey_key, customer_id, order_key, is_converting, is_direct

),

journey_rows as (

    select
        journeys.journey_key,
        journeys.customer_id,
        journeys.order_key,
        journeys.is_converting,
        journeys.is_direct,
        conversions.sales_channel as conversion_sales_channel,
        coalesce(conversions.revenue_cny, 0) as revenue_cny,
        conversions.is_first_purchase,
        journeys.first_touched_at_local,
        journeys.last_touched_at_local,
        conversions.converted_at_local,
        cast(
            {{ dbt.date_trunc('month', 'coalesce(conversions.converted_at_local, '
                ~ 'journeys.last_touched_at_local)') }}
            as date
        ) as journey_month,
        journeys.touch_count,
        journeys.channel_count,
        journeys.campaign_count,
        {{ dbt.datediff(
            'journeys.first_touched_at_local', 'conversions.converted_at_local', 'second'
        ) }} / 86400.0 as days_to_convert,
        path_full.channel_path as path_full,
        path_deduplicated.channel_path as path_deduplicated,
        path_first_touch_per_channel.channel_path
            as path_first_touch_per_channel
    from journeys
    inner join path_full
        on journeys.journey_key = path_full.journey_key
    inner join path_deduplicated
        on journeys.journey_key = path_deduplicated.journey_key
    inner join path_first_touch_per_channel
        on journeys.journey_key = path_first_touch_per_channel.journey_key
    left join conversions
        on journeys.order_key = conversions.order_key

)

{{ replace_records_batch('journey_rows',
    'this_rows.journey_key in (select journey_key from journeys_to_rebuild)',
    with_identity=true,
    record_key=record_key) }}
