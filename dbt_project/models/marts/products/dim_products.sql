-- One row per SKU: its product, category and the brand's standard list price.
with

products as (

    select * from {{ ref('stg_products__products') }}

)

select
    sku_id,
    product_id,
    product_name,
    category,
    list_price_cny as standard_price_cny,
    launched_date
from products
