{#-
    The customer 360 profile: one row per customer of the identity graph. Identifiers appear only
    as counts (their keyed hashes are in customer_identities); no raw phone, name, address or
    platform id. Predicted CLV is read back from the CLV asset (source predictions.customer_clv);
    before that asset has ever run the CLV columns are null with clv_fit_status 'not_run'.
-#}
{%- set identity_types = [
    'member_id', 'phone', 'unionid', 'openid', 'tmall_buyer_id', 'jd_buyer_id',
    'douyin_shop_buyer_id', 'xiaohongshu_user_id', 'douyin_user_id', 'weibo_user_id',
    'wechat_user_id', 'device_id'] %}
{%- set clv_source = source('predictions', 'customer_clv') %}
{%- set clv_exists = (not execute) or (load_relation(clv_source) is not none) %}
with

customers as (

    select * from {{ ref('int_customers__features') }}

),

identities as (

    select * from {{ ref('customer_identities') }}
    where customer_id is not null

),

lifecycle as (

    select * from {{ ref('customer_lifecycle_monthly') }}

),

rfm as (

    select * from {{ ref('customer_rfm') }}

),

circles as (

    select * from {{ ref('customer_circles') }}

),

tags as (

    select * from {{ ref('customer_tags') }}

),

stores as (

    select * from {{ ref('dim_stores') }}

),

clv as (

    {% if clv_exists -%}
    select
        customer_id,
        predicted_clv,
        probability_alive,
        fit_status
    from {{ clv_source }}
    {%- else -%}
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as double) as predicted_clv,
        cast(null as double) as probability_alive,
        cast(null as {{ dbt.type_string() }}) as fit_status
    where 1 = 0
    {%- endif %}

),

identity_counts as (

    select
        customer_id,
        {%- for identity_type in identity_types %}
        sum(case when identity_type = '{{ identity_type }}' then 1 else 0 end)
            as {{ identity_type }}_count,
        {%- endfor %}
        count(*) as identity_count
    from identities
    group by customer_id

),

current_stage as (

    select
        customer_id,
        lifecycle_stage
    from (
        select
            customer_id,
            lifecycle_stage,
            row_number() over (partition by customer_id order by month_start desc) as month_rank
        from lifecycle
    ) as ranked_months
    where month_rank = 1

),

tag_counts as (

    select
        customer_id,
        count(*) as tag_count
    from tags
    group by customer_id

)

select
    customers.customer_id,
    customers.first_seen_at_local,
    customers.last_seen_at_local,
    customers.channels_used,
    customers.channel_count,
    {%- for identity_type in identity_types %}
    coalesce(identity_counts.{{ identity_type }}_count, 0) as {{ identity_type }}_count,
    {%- endfor %}
    coalesce(identity_counts.identity_count, 0) as identity_count,
    customers.is_member,
    customers.member_tier,
    customers.member_signed_up_at_local,
    coalesce(customers.member_home_store_id, customers.top_purchase_store_id) as home_store_id,
    case
        when customers.member_home_store_id is not null then 'member_record'
        when customers.top_purchase_store_id is not null then 'most_store_purchases'
    end as home_store_source,
    stores.city as home_city,
    coalesce(customers.has_marketing_consent, false) as has_marketing_consent,
    current_stage.lifecycle_stage,
    rfm.recency_days,
    rfm.recency_score,
    rfm.frequency_score,
    rfm.monetary_score,
    rfm.rfm_cell,
    customers.valid_order_count as lifetime_orders,
    customers.lifetime_net_revenue_cny,
    customers.first_purchase_date_local,
    customers.last_purchase_date_local,
    customers.touch_count,
    clv.predicted_clv,
    clv.probability_alive,
    coalesce(clv.fit_status, '{{ "no_purchase" if clv_exists else "not_run" }}')
        as clv_fit_status,
    circles.circle,
    circles.circle_rank,
    coalesce(tag_counts.tag_count, 0) as tag_count,
    customers.as_of_date
from customers
left join identity_counts
    on customers.customer_id = identity_counts.customer_id
left join current_stage
    on customers.customer_id = current_stage.customer_id
left join rfm
    on customers.customer_id = rfm.customer_id
left join circles
    on customers.customer_id = circles.customer_id
left join tag_counts
    on customers.customer_id = tag_counts.customer_id
left join clv
    on customers.customer_id = clv.customer_id
left join stores
    on coalesce(customers.member_home_store_id, customers.top_purchase_store_id) = stores.store_id
