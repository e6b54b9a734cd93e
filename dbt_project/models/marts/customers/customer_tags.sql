{#-
    Rule-based customer tags, long form (one row per customer and tag). Each tag is exactly one
    CTE below (`tag_<name>`), reading only int_customers__features and its thresholds from dbt
    vars; the definitions are written out in customer_tags.yml. To add a tag: add one CTE and
    one union branch, and document it there.
-#}
with

customers as (

    select * from {{ ref('int_customers__features') }}

),

tag_high_value as (

    -- top var('tag_high_value_top_share') of buyers by lifetime net revenue
    select
        customer_id,
        'high_value' as tag
    from customers
    where
        valid_order_count > 0
        and revenue_percent_rank >= 1 - {{ var('tag_high_value_top_share') }}

),

tag_discount_seeker as (

    select
        customer_id,
        'discount_seeker' as tag
    from customers
    where
        valid_order_count >= {{ var('tag_discount_seeker_min_orders') }}
        and discounted_order_count
        >= {{ var('tag_discount_seeker_min_discounted_share') }} * valid_order_count

),

tag_store_loyal as (

    select
        customer_id,
        'store_loyal' as tag
    from customers
    where
        store_order_count >= {{ var('tag_store_loyal_min_store_orders') }}
        and top_store_order_count
        >= {{ var('tag_store_loyal_min_home_store_share') }} * store_order_count

),

tag_online_only as (

    select
        customer_id,
        'online_only' as tag
    from customers
    where online_order_count > 0 and store_order_count = 0 and store_touch_count = 0

),

tag_omnichannel as (

    select
        customer_id,
        'omnichannel' as tag
    from customers
    where online_order_count > 0 and store_order_count > 0

),

tag_recently_seeded as (

    select
        customer_id,
        'recently_seeded' as tag
    from customers
    where
        last_seeding_touch_date_local is not null
        and {{ dbt.datediff('last_seeding_touch_date_local', 'as_of_date', 'day') }}
        <= {{ var('tag_recently_seeded_days') }}

),

tag_at_risk as (

    -- still active, but closer to dormancy than var('tag_at_risk_after_days')
    select
        customer_id,
        'at_risk' as tag
    from customers
    where
        valid_order_count > 0
        and days_since_last_purchase >= {{ var('tag_at_risk_after_days') }}
        and days_since_last_purchase < {{ var('dormant_after_days') }}

),

tags as (

    select
        customer_id,
        tag
    from tag_high_value
    union all
    select
        customer_id,
        tag
    from tag_discount_seeker
    union all
    select
        customer_id,
        tag
    from tag_store_loyal
    union all
    select
        customer_id,
        tag
    from tag_online_only
    union all
    select
        customer_id,
        tag
    from tag_omnichannel
    union all
    select
        customer_id,
        tag
    from tag_recently_seeded
    union all
    select
        customer_id,
        tag
    from tag_at_risk

)

select
    customer_id,
    cast(tag as {{ dbt.type_string() }}) as tag
from tags
