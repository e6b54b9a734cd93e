{#-
    One price view: per SKU, day and sales channel, the list price and title the channel shows,
    beside the brand's standard price and name (product master), with the deviation flags.
-#}
with

channel_prices as (

    select * from {{ ref('stg_products__channel_prices') }}

),

products as (

    select * from {{ ref('stg_products__products') }}

)

select
    {{ dbt.hash(dbt.concat([
        'channel_prices.sku_id', "':'", 'channel_prices.channel', "':'",
        'cast(channel_prices.price_date as ' ~ dbt.type_string() ~ ')'])) }} as channel_price_key,
    channel_prices.price_date,
    channel_prices.sku_id,
    channel_prices.channel,
    products.product_id,
    products.category,
    channel_prices.list_price_cny,
    channel_prices.product_title,
    products.list_price_cny as standard_price_cny,
    products.product_name as standard_title,
    channel_prices.list_price_cny - products.list_price_cny as price_difference_cny,
    channel_prices.list_price_cny <> products.list_price_cny as is_price_deviation,
    channel_prices.product_title <> products.product_name as is_title_deviation,
    (
        channel_prices.list_price_cny <> products.list_price_cny
        or channel_prices.product_title <> products.product_name
    ) as is_deviation
from channel_prices
inner join products
    on channel_prices.sku_id = products.sku_id
