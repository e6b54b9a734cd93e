{#-
    One row per order line of every sales channel (POS receipt lines and online order lines),
    with the order's customer, channel crediting and validity. Line amounts are before the
    order-level discount.
-#}
with

pos_lines as (

    select * from {{ ref('stg_pos__receipt_lines') }}

),

online_lines as (

    select * from {{ ref('stg_ecom__order_lines') }}

),

orders as (

    select * from {{ ref('int_orders__orders') }}

),

products as (

    select * from {{ ref('stg_products__products') }}

),

unioned as (

    select
        cast('pos' as {{ dbt.type_string() }}) as channel,
        receipt_id as order_id,
        line_number,
        sku_id,
        quantity,
        unit_price_cny,
        line_amount_cny
    from pos_lines

    union all

    select
        platform as channel,
        order_id,
        line_number,
        sku_id,
        quantity,
        unit_price_cny,
        line_amount_cny
    from online_lines

)

select
    {{ dbt.hash(dbt.concat([
        'unioned.channel', "':'", 'unioned.order_id', "':'",
        'cast(unioned.line_number as ' ~ dbt.type_string() ~ ')'])) }} as order_line_key,
    {{ dbt.hash(dbt.concat(['unioned.channel', "':'", 'unioned.order_id'])) }} as order_key,
    unioned.channel,
    unioned.order_id,
    unioned.line_number,
    unioned.sku_id,
    products.product_id,
    products.category,
    unioned.quantity,
    unioned.unit_price_cny,
    unioned.line_amount_cny,
    products.list_price_cny as standard_price_cny,
    orders.customer_id,
    orders.sales_channel,
    orders.store_id,
    orders.fulfilment_store_id,
    orders.is_pickup_order,
    orders.order_key is not null as has_order,
    coalesce(orders.is_valid_sale, false) as is_valid_sale,
    case
        when orders.order_key is null then 'order_missing'
        else orders.exclusion_reason
    end as exclusion_reason,
    orders.ordered_at_local,
    orders.order_date_local
from unioned
left join orders
    on
        unioned.channel = orders.channel
        and unioned.order_id = orders.order_id
left join products
    on unioned.sku_id = products.sku_id
