{#-
    The valid sales of identified customers (fct_orders.is_valid_sale and a customer_id): the one
    set of purchases that lifecycle, RFM, tags, circles, CLV and dim_customers count. Anonymous
    orders and excluded orders (cancelled, test, the store hand-over of a pick-up) are left out.
-#}
with

orders as (

    select * from {{ ref('fct_orders') }}

),

channels as (

    select * from {{ ref('dim_channels') }}

)

select
    orders.order_key,
    orders.customer_id,
    orders.sales_channel,
    channels.is_online as is_online_sale,
    orders.store_id,
    orders.fulfilment_store_id,
    orders.is_pickup_order,
    orders.campaign_id,
    orders.gross_amount_cny,
    orders.discount_amount_cny,
    orders.discount_amount_cny > 0 as is_discounted,
    orders.net_revenue_cny,
    orders.ordered_at_utc,
    orders.ordered_at_local,
    orders.order_date_local
from orders
left join channels
    on orders.sales_channel = channels.channel
where orders.is_valid_sale and orders.customer_id is not null
