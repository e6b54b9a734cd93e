{#-
    The identified marketing touches that carry a campaign, each numbered among its customer's
    identified marketing touches of the local month (journeys_docs.md, `marketing_waste`: the
    frequency cap). Kept apart from int_journeys__campaign_touch_spend because numbering every
    customer's month was that model's costliest step (18 of its 30 CPU-seconds at 1,000,000
    customers), and a night changes few customer-months; the touch's columns that model reads
    are kept here too, since joining the numbers back to 7M touches cost 9 of the 18 seconds.

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

    select
        touchpoint_key,
        customer_id,
        channel,
        touchpoint_type,
        campaign_id,
        touched_at_local,
        touch_date_local,
        touch_month,
        month_touch_number
    from numbered
    where campaign_id is not null

)

{{ replace_records_batch('numbered_campaign_touches',
    '(this_rows.customer_id, this_rows.touch_month) in'
    ~ ' (select customer_id, touch_month from months_to_renumber)'
    ~ ' or this_rows.customer_id in (select customer_id from customers_losing_touches)',
    with_identity=true,
    record_key=record_key) }}
