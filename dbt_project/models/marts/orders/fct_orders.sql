{#-
    The order book: one row per order of every sales channel, refunds netted. Excluded orders
    (cancelled, test, the store receipt of a BOPIS pick-up) stay, with their reason, and carry no
    revenue. Sum `net_revenue_cny` for sales; group by `sales_channel` for channel reports and
    by `fulfilment_store_id` for store fulfilment.

    Incremental by order: a night rebuilds the orders int_orders__orders rebuilt or deleted and
    those whose refunds changed (compared with the refunds held: a few per cent of the orders).
    It logs the rows it replaces or deletes in audit.replaced_rows for the models built from it.
-#}
{%- set record_key = 'order_key' %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
    log_replaced_rows=record_key,
) }}

with

refunds as (

    select * from {{ ref('int_orders__refunds') }}

),

refunds_per_order as (

    select
        order_key,
        count(*) as refund_count,
        sum(refund_amount_cny) as refunded_amount_cny,
        max(refunded_at_utc) as last_refunded_at_utc
    from refunds
    where is_matched
    group by order_key

),
{%- if is_incremental() %}

changed_refunds as (

    (
        select order_key, refund_count, refunded_amount_cny, last_refunded_at_utc
        from refunds_per_order
        except
        select order_key, refund_count, refunded_amount_cny, last_refunded_at_utc
        from {{ this }}
        where refund_count > 0
    )
    union all
    (
        select order_key, refund_count, refunded_amount_cny, last_refunded_at_utc
        from {{ this }}
        where refund_count > 0
        except
        select order_key, refund_count, refunded_amount_cny, last_refunded_at_utc
        from refunds_per_order
    )

),

order_keys_to_reprocess as (

    select rebuilt.row_key as order_key
    from ({{ keys_rebuilt_since_watermark('int_orders__orders', 'order_key') }}) as rebuilt
    union
    select order_key from changed_refunds

),
{%- endif %}

orders as (

    select * from {{ ref('int_orders__orders') }}
    {%- if is_incremental() %}
    where order_key in (select order_key from order_keys_to_reprocess)
    {%- endif %}

),

netted as (

    select
        orders.order_key,
        orders.channel,
        orders.order_id,
        orders.customer_id,
        orders.customer_id is null as is_anonymous,
        orders.store_id,
        orders.sales_channel,
        orders.fulfilment_store_id,
        orders.is_pickup_order,
        orders.is_pickup_fulfilment,
        orders.picked_up_at_utc,
        orders.campaign_id,
        orders.status,
        orders.is_valid_sale,
        orders.exclusion_reason,
        orders.line_count,
        orders.gross_amount_cny,
        orders.discount_amount_cny,
        orders.net_amount_cny,
        coalesce(refunds_per_order.refund_count, 0) as refund_count,
        coalesce(refunds_per_order.refunded_amount_cny, 0) as refunded_amount_cny,
        orders.ordered_at_utc,
        orders.ordered_at_local,
        orders.order_date_local,
        refunds_per_order.last_refunded_at_utc
    from orders
    left join refunds_per_order
        on orders.order_key = refunds_per_order.order_key

),

current_orders as (

    select
        order_key,
        channel,
        order_id,
        customer_id,
        is_anonymous,
        store_id,
        sales_channel,
        fulfilment_store_id,
        is_pickup_order,
        is_pickup_fulfilment,
        picked_up_at_utc,
        campaign_id,
        status,
        is_valid_sale,
        exclusion_reason,
        line_count,
        gross_amount_cny,
        discount_amount_cny,
        net_amount_cny,
        refund_count,
        refunded_amount_cny,
        case
            when is_valid_sale then net_amount_cny - refunded_amount_cny
            else 0
        end as net_revenue_cny,
        refund_count > 0 as has_refund,
        refunded_amount_cny >= net_amount_cny and refund_count > 0 as is_fully_refunded,
        ordered_at_utc,
        ordered_at_local,
        order_date_local,
        last_refunded_at_utc
    from netted

)

{{ replace_records_batch(
    'current_orders',
    'this_rows.order_key in (select order_key from order_keys_to_reprocess)',
    record_key=record_key,
    with_identity=true,
) }}
