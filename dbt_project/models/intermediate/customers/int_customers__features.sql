{#-
    One row per customer of the identity graph with the facts that tags, circles, RFM and
    dim_customers are computed from: when seen, identities, touches per kind, valid purchases
    (int_customers__valid_purchases), store behaviour and the member record; the touch facts
    come from int_customers__touch_summary, incremental by customer. Measured as of the data's
    last day (customer_data_as_of_date).
-#}
with

identity_map as (

    select * from {{ source('identity', 'customer_identity_map') }}
    where customer_id is not null

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

),

touch_summary as (

    select * from {{ ref('int_customers__touch_summary') }}

),

member_touches as (

    select
        customer_id,
        record_id
    from {{ ref('int_customers__touch_records') }}
    where record_source = 'crm_member'

),

purchases as (

    select * from {{ ref('int_customers__valid_purchases') }}

),

member_versions as (

    select * from {{ ref('stg_crm__member_changes') }}

),

customers as (

    select
        identity_map.customer_id,
        count(*) as identity_count,
        min(identifiers.first_seen_at_utc) as first_seen_at_utc,
        max(identifiers.last_seen_at_utc) as last_seen_at_utc
    from identity_map
    left join identifiers
        on
            identity_map.identity_type = identifiers.identity_type
            and identity_map.identity_value = identifiers.identity_value
    group by identity_map.customer_id

),

purchase_summary as (

    select
        customer_id,
        count(*) as valid_order_count,
        sum(net_revenue_cny) as lifetime_net_revenue_cny,
        sum(case when is_discounted then 1 else 0 end) as discounted_order_count,
        sum(case when is_online_sale then 1 else 0 end) as online_order_count,
        sum(case when is_online_sale then 0 else 1 end) as store_order_count,
        min(order_date_local) as first_purchase_date_local,
        max(order_date_local) as last_purchase_date_local
    from purchases
    group by customer_id

),

store_purchases as (

    select
        customer_id,
        store_id,
        count(*) as store_orders,
        max(order_date_local) as last_order_date_local
    from purchases
    where not is_online_sale and store_id is not null
    group by customer_id, store_id

),

top_store as (

    select
        customer_id,
        store_id as top_purchase_store_id,
        store_orders as top_store_order_count
    from (
        select
            customer_id,
            store_id,
            store_orders,
            row_number() over (
                partition by customer_id
                order by store_orders desc, last_order_date_local desc, store_id asc
            ) as store_rank
        from store_purchases
    ) as ranked_stores
    where store_rank = 1

),

customer_members as (

    -- the customer's current member record: the latest version of its most recently updated
    -- member id (a customer can hold more than one member id, e.g. a re-registration)
    select
        member_touches.customer_id,
        member_versions.tier,
        member_versions.home_store_id,
        member_versions.has_marketing_consent,
        member_versions.signed_up_at_local,
        row_number() over (
            partition by member_touches.customer_id
            order by member_versions.updated_at_utc desc, member_versions.member_version_id desc
        ) as member_rank
    from member_touches
    inner join member_versions
        on member_touches.record_id = member_versions.member_version_id
    where member_versions.is_latest_version

),

as_of as (

    select {{ customer_data_as_of_date() }} as as_of_date

)

select
    customers.customer_id,
    customers.identity_count,
    customers.first_seen_at_utc,
    {{ to_local_time('customers.first_seen_at_utc') }} as first_seen_at_local,
    {{ to_local_date('customers.first_seen_at_utc') }} as first_seen_date_local,
    customers.last_seen_at_utc,
    {{ to_local_time('customers.last_seen_at_utc') }} as last_seen_at_local,
    coalesce(touch_summary.channel_count, 0) as channel_count,
    touch_summary.channels_used,
    coalesce(touch_summary.touch_count, 0) as touch_count,
    coalesce(touch_summary.store_touch_count, 0) as store_touch_count,
    coalesce(touch_summary.follow_count, 0) as follow_count,
    coalesce(touch_summary.consultation_count, 0) as consultation_count,
    coalesce(touch_summary.member_record_count, 0) > 0 as is_member,
    touch_summary.last_seeding_touch_date_local,
    coalesce(purchase_summary.valid_order_count, 0) as valid_order_count,
    coalesce(purchase_summary.lifetime_net_revenue_cny, 0) as lifetime_net_revenue_cny,
    coalesce(purchase_summary.discounted_order_count, 0) as discounted_order_count,
    coalesce(purchase_summary.online_order_count, 0) as online_order_count,
    coalesce(purchase_summary.store_order_count, 0) as store_order_count,
    purchase_summary.first_purchase_date_local,
    purchase_summary.last_purchase_date_local,
    {{ dbt.datediff('purchase_summary.last_purchase_date_local', 'as_of.as_of_date', 'day') }}
        as days_since_last_purchase,
    case
        when purchase_summary.customer_id is not null
            then percent_rank() over (
                partition by purchase_summary.customer_id is not null
                order by purchase_summary.lifetime_net_revenue_cny
            )
    end as revenue_percent_rank,
    top_store.top_purchase_store_id,
    coalesce(top_store.top_store_order_count, 0) as top_store_order_count,
    customer_members.tier as member_tier,
    customer_members.home_store_id as member_home_store_id,
    customer_members.has_marketing_consent,
    customer_members.signed_up_at_local as member_signed_up_at_local,
    as_of.as_of_date
from customers
cross join as_of
left join touch_summary
    on customers.customer_id = touch_summary.customer_id
left join purchase_summary
    on customers.customer_id = purchase_summary.customer_id
left join top_store
    on customers.customer_id = top_store.customer_id
left join customer_members
    on
        customers.customer_id = customer_members.customer_id
        and customer_members.member_rank = 1
