{#-
    The identified marketing touches that carry a campaign, each numbered among its customer's
    identified marketing touches of the local month (journeys_docs.md, `marketing_waste`: the
    frequency cap). Kept apart from int_journeys__campaign_touch_spend, a table, because
    numbering every customer's month was most of that model's cost and a night changes few
    customer-months: at 1,000,000 customers (1 thread) the model took 22 s; now it takes 8 s,
    and a night's renumbering here about 5.5 s. The touch columns that model reads are kept
    here too: joining the numbers back to its 7.2M touches by key cost 6 s more.

    Incremental by customer-month: a night renumbers the months holding a marketing touch that
    fct_touchpoints (re)built after this model's watermark, and every month of the customers
    who lost a touch since (fct_touchpoints logs the rows it replaced or deleted with their
    customer; the lost touch's month is not logged, and the touch may be one this model never
    held: a marketing touch without a campaign still counts).
-#}
{%- set record_key = ['customer_id', 'touch_month'] %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}
with

touchpoints as (

    select * from {{ ref('fct_touchpoints') }}

),

all_marketing_touches as (

    select
        touchpoint_key,
        customer_id,
        channel,
        touchpoint_type,
        campaign_id,
        touched_at_local,
        touch_date_local,
        touch_month,
        processed_through_utc
    from touchpoints
    where
        is_marketing_touch
        and customer_id is not null

),
{%- if is_incremental() %}

customers_losing_touches as (

    select distinct replaced.customer_id
    from ({{ replaced_rows_since_watermark('fct_touchpoints') }}) as replaced
    where replaced.customer_id is not null

),

months_to_renumber as (

    select customer_id, touch_month
    from all_marketing_touches
    where processed_through_utc > {{ incremental_watermark() }}

    union

    select all_marketing_touches.customer_id, all_marketing_touches.touch_month
    from all_marketing_touches
    inner join customers_losing_touches
        on all_marketing_touches.customer_id = customers_losing_touches.customer_id

    union

    -- a held month may have lost all its touches
    select this_rows.customer_id, this_rows.touch_month
    from {{ this }} as this_rows
    inner join customers_losing_touches
        on this_rows.customer_id = customers_losing_touches.customer_id

),

marketing_touches as (

    select all_marketing_touches.*
    from all_marketing_touches
    inner join months_to_renumber
        on
            all_marketing_touches.customer_id = months_to_renumber.customer_id
            and all_marketing_touches.touch_month = months_to_renumber.touch_month

),
{%- else %}

marketing_touches as (

    select * from all_marketing_touches

),
{%- endif %}

numbered as (

    select
        touchpoint_key,
        customer_id,
        channel,
        touchpoint_type,
        campaign_id,
        touched_at_local,
        touch_date_local,
        touch_month,
        row_number() over (
            partition by customer_id, touch_month
            order by touched_at_local asc, touchpoint_key asc
        ) as month_touch_number
    from marketing_touches

),

numbered_campaign_touches as (

    select * from numbered
    where campaign_id is not null

)

{{ replace_records_batch('numbered_campaign_touches',
    '(this_rows.customer_id, this_rows.touch_month) in'
    ~ ' (select customer_id, touch_month from months_to_renumber)',
    with_identity=true,
    record_key=record_key) }}
