{#-
    Brand information consistency (品牌信息传递一致性), per day: of the active SKUs (listed with a
    price in two or more sales channels that day), the share whose price AND title are the same
    in every channel listing them. The plan's target is var('brand_consistency_target').
-#}
with

channel_prices as (

    select * from {{ ref('fct_channel_prices_daily') }}

),

per_sku as (

    select
        price_date,
        sku_id,
        count(distinct channel) as channel_count,
        count(distinct list_price_cny) as distinct_price_count,
        count(distinct product_title) as distinct_title_count
    from channel_prices
    group by price_date, sku_id

),

active as (

    select
        price_date,
        sku_id,
        distinct_price_count = 1 as is_price_consistent,
        distinct_title_count = 1 as is_title_consistent,
        distinct_price_count = 1 and distinct_title_count = 1 as is_consistent
    from per_sku
    where channel_count >= 2

),

daily as (

    select
        price_date,
        count(*) as active_sku_count,
        sum(case when is_consistent then 1 else 0 end) as consistent_sku_count,
        sum(case when is_price_consistent then 1 else 0 end) as price_consistent_sku_count,
        sum(case when is_title_consistent then 1 else 0 end) as title_consistent_sku_count
    from active
    group by price_date

)

select
    price_date,
    active_sku_count,
    consistent_sku_count,
    price_consistent_sku_count,
    title_consistent_sku_count,
    cast(consistent_sku_count as double) / nullif(active_sku_count, 0) as consistency_rate,
    cast({{ var('brand_consistency_target') }} as double) as consistency_target,
    cast(consistent_sku_count as double) / nullif(active_sku_count, 0)
    > {{ var('brand_consistency_target') }} as meets_target
from daily
