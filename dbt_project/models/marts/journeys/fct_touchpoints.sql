{#-
    Every interaction of a customer with the brand, one row per touch: social events (content
    views, likes, saves, comments, shares, follows, consultations, mini-program visits, campaign
    clicks), identified store visits and valid purchases. Raw identifiers stay behind: the row
    carries the resolved customer_id (null when the touch resolves to nobody).

    Incremental by touch: a night reprocesses the social events and visits of changed raw
    partitions and those whose customer was re-resolved, and derives again the purchases of the
    orders fct_orders rebuilt or deleted (logged in audit.replaced_rows), replacing only those
    that differ from the rows held (new, changed, or no longer a valid sale).
-#}
{%- set record_key = 'touchpoint_key' %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
    log_replaced_rows='touchpoint_key',
) }}

with
{%- if is_incremental() %}

records_to_reprocess as (

    {{ records_to_reprocess('this_rows.raw_source') }}

),
{%- endif %}

social_events as (

    select * from {{ ref('stg_social__events') }}
    {%- if is_incremental() %}
    where event_id in (
        {{ touch_ids_to_reprocess(ref('stg_social__events'), 'social_events', 'social_event', 'event_id',
            'records_to_reprocess') }}
    )
    {%- endif %}

),

store_visits as (

    select * from {{ ref('stg_stores__visits') }}
    {%- if is_incremental() %}
    where visit_id in (
        {{ touch_ids_to_reprocess(ref('stg_stores__visits'), 'store_visits', 'store_visit', 'visit_id',
            'records_to_reprocess') }}
    )
    {%- endif %}

),

{%- if is_incremental() %}

changed_order_keys as (

    select rebuilt.row_key as order_key
    from ({{ keys_rebuilt_since_watermark('fct_orders', 'order_key') }}) as rebuilt

),
{%- endif %}

orders as (

    select * from {{ ref('fct_orders') }}
    {%- if is_incremental() %}
    where order_key in (select order_key from changed_order_keys)
    {%- endif %}

),

social_touches as (

    select
        'social_event' as record_source,
        social_events.event_id as record_id,
        social_events.channel,
        case
            when
                social_events.event_type in (
                    'note_view', 'video_view', 'post_view', 'article_read'
                )
                then 'content_view'
            else social_events.event_type
        end as touchpoint_type,
        social_events.event_type,
        social_events.campaign_id,
        social_events.store_id,
        cast(null as {{ dbt.type_string() }}) as order_key,
        social_events.occurred_at_utc as touched_at_utc,
        social_events.occurred_at_local as touched_at_local,
        'social_events' as raw_source,
        social_events.export_day
    from social_events

),

visit_touches as (

    select
        'store_visit' as record_source,
        store_visits.visit_id as record_id,
        'pos' as channel,
        'store_visit' as touchpoint_type,
        'store_visit' as event_type,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        store_visits.store_id,
        cast(null as {{ dbt.type_string() }}) as order_key,
        store_visits.visited_at_utc as touched_at_utc,
        store_visits.visited_at_local as touched_at_local,
        'store_visits' as raw_source,
        store_visits.export_day
    from store_visits

),

marketing_touches as (

    select * from social_touches
    union all
    select * from visit_touches

),

record_customers as (

    select record_customers.*
    from {{ ref('int_identity__record_customers') }} as record_customers
    {%- if is_incremental() %}
    -- only the night's touches: the join below then hashes their customers, not every record's
    -- (19M at 1M customers, 14 of a 29 s night)
    where exists (
        select 1 from marketing_touches
        where
            marketing_touches.record_source = record_customers.record_source
            and marketing_touches.record_id = record_customers.record_id
    )
    {%- endif %}

),

identified_touches as (

    select
        touches.record_source,
        touches.record_id,
        touches.channel,
        touches.touchpoint_type,
        touches.event_type,
        touches.campaign_id,
        touches.store_id,
        touches.order_key,
        touches.touched_at_utc,
        touches.touched_at_local,
        touches.raw_source,
        touches.export_day,
        record_customers.customer_id,
        {{ dbt.hash(dbt.concat(['touches.record_source', "':'", 'touches.record_id'])) }}
            as touchpoint_key
    from marketing_touches as touches
    left join record_customers
        on
            touches.record_source = record_customers.record_source
            and touches.record_id = record_customers.record_id

),

purchase_touches as (

    select
        'order' as record_source,
        orders.order_key as record_id,
        orders.sales_channel as channel,
        'purchase' as touchpoint_type,
        'purchase' as event_type,
        orders.campaign_id,
        orders.fulfilment_store_id as store_id,
        orders.order_key,
        orders.ordered_at_utc as touched_at_utc,
        orders.ordered_at_local as touched_at_local,
        cast(null as {{ dbt.type_string() }}) as raw_source,
        cast(null as date) as export_day,
        orders.customer_id,
        {{ dbt.hash(dbt.concat(["'order:'", 'orders.order_key'])) }} as touchpoint_key
    from orders
    where orders.is_valid_sale

),

{%- if is_incremental() %}

-- the purchases held of the orders rebuilt, in the columns purchase_touches derives
held_purchases as (

    select
        record_source,
        record_id,
        channel,
        touchpoint_type,
        event_type,
        campaign_id,
        store_id,
        order_key,
        touched_at_utc,
        touched_at_local,
        raw_source,
        export_day,
        customer_id,
        touchpoint_key
    from {{ this }}
    where
        record_source = 'order'
        and order_key in (select order_key from changed_order_keys)

),

changed_purchases as (

    select * from purchase_touches
    except
    select * from held_purchases

),

-- held purchases that are no longer a valid sale: deleted
gone_purchases as (

    select touchpoint_key from held_purchases
    except
    select touchpoint_key from purchase_touches

),

-- held purchases whose row is replaced or deleted
stale_purchases as (

    select touchpoint_key from changed_purchases
    union
    select touchpoint_key from gone_purchases

),
{%- endif %}

unioned as (

    select * from identified_touches
    union all
    {%- if is_incremental() %}
    select * from changed_purchases
    {%- else %}
    select * from purchase_touches
    {%- endif %}

),

current_touchpoints as (

    select
        touchpoint_key,
        customer_id,
        customer_id is not null as is_identified,
        record_source,
        record_id,
        channel,
        touchpoint_type,
        case
            when
                touchpoint_type in ('content_view', 'like', 'save', 'comment', 'share', 'follow')
                then 'seeding'
            when touchpoint_type in ('consultation', 'miniprogram_visit') then 'private_domain'
            when touchpoint_type = 'campaign_click' then 'campaign'
            when touchpoint_type = 'store_visit' then 'store'
            else 'purchase'
        end as touchpoint_group,
        touchpoint_type <> 'purchase' as is_marketing_touch,
        event_type,
        campaign_id,
        store_id,
        order_key,
        touched_at_utc,
        touched_at_local,
        cast(touched_at_local as date) as touch_date_local,
        cast({{ dbt.date_trunc('month', 'touched_at_local') }} as date) as touch_month,
        raw_source,
        export_day
    from unioned

)

{{ replace_records_batch('current_touchpoints',
    "this_rows.touchpoint_key in (select touchpoint_key from stale_purchases) or "
    ~ in_changed_partition('this_rows.raw_source', 'this_rows.export_day'),
    with_identity=true,
    record_key=record_key) }}
