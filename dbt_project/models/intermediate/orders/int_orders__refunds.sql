{#-
    One row per refund or return of any sales channel, linked to its order (the receipt for
    POS). A refund whose order is not in the order book is kept, unmatched
    (see int_orders__unmatched_refunds), never dropped.
-#}
with

refunds as (

    select * from {{ ref('stg_sales__refunds') }}

),

orders as (

    select * from {{ ref('int_orders__orders') }}

)

select
    {{ dbt.hash(dbt.concat(['refunds.channel', "':'", 'refunds.refund_id'])) }} as refund_key,
    refunds.channel,
    refunds.refund_id,
    refunds.order_id,
    orders.order_key,
    orders.customer_id,
    orders.order_key is not null as is_matched,
    coalesce(orders.is_valid_sale, false) as is_order_valid_sale,
    refunds.sku_id,
    refunds.quantity,
    refunds.is_line_refund,
    refunds.refund_amount_cny,
    refunds.refund_reason,
    refunds.refunded_at_utc,
    refunds.refunded_at_local,
    refunds.refund_date_local,
    orders.order_date_local,
    refunds.loaded_at_utc
from refunds
left join orders
    on
        refunds.channel = orders.channel
        and refunds.order_id = orders.order_id
