{#-
    Conversions: every valid sale of an identified customer (fct_orders), numbered per customer
    in time order. A conversion is what journeys end in and what attribution credits.
-#}
with

orders as (

    select * from {{ ref('fct_orders') }}

),

conversions as (

    select
        order_key,
        customer_id,
        sales_channel,
        campaign_id,
        net_revenue_cny as revenue_cny,
        ordered_at_local as converted_at_local,
        order_date_local as conversion_date_local,
        row_number() over (
            partition by customer_id order by ordered_at_local asc, order_key asc
        ) as conversion_number
    from orders
    where
        is_valid_sale
        and customer_id is not null

)

select
    order_key,
    customer_id,
    sales_channel,
    campaign_id,
    revenue_cny,
    converted_at_local,
    conversion_date_local,
    cast({{ dbt.date_trunc('month', 'conversion_date_local') }} as date) as conversion_month,
    conversion_number,
    conversion_number = 1 as is_first_purchase
from conversions
