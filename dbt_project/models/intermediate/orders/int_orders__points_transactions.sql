{#-
    Member points transactions from every channel, each resolved to its member's customer: the
    member id in its canonical form (upper-case, as identity resolution writes it) looked up in
    the resolved identity map. Members the map does not resolve keep a NULL customer_id.
-#}
with

points as (

    select * from {{ ref('stg_crm__points_transactions') }}

),

identity_map as (

    select * from {{ source('identity', 'customer_identity_map') }}
    where identity_type = 'member_id' and customer_id is not null

),

orders as (

    select * from {{ ref('int_orders__orders') }}

),

canonical as (

    select
        points_transaction_id,
        upper(trim(member_id)) as member_id_canonical,
        channel,
        order_id,
        transaction_type,
        points_delta,
        transacted_at_utc,
        transacted_at_local,
        transaction_date_local
    from points

)

select
    canonical.points_transaction_id,
    canonical.member_id_canonical,
    {{ dbt.hash('canonical.member_id_canonical') }} as member_key,
    identity_map.customer_id,
    canonical.channel,
    canonical.order_id,
    orders.order_key,
    canonical.transaction_type,
    canonical.points_delta,
    case when canonical.points_delta > 0 then canonical.points_delta else 0 end as points_earned,
    case when canonical.points_delta < 0 then -canonical.points_delta else 0 end
        as points_spent,
    canonical.transacted_at_utc,
    canonical.transacted_at_local,
    canonical.transaction_date_local
from canonical
left join identity_map
    on canonical.member_id_canonical = identity_map.identity_value
left join orders
    on
        canonical.channel = orders.channel
        and canonical.order_id = orders.order_id
