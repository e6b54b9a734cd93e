-- Points per customer across all their memberships and channels: earned, spent, balance.
with

ledger as (

    select * from {{ ref('fct_points_ledger') }}
    where customer_id is not null

)

select
    customer_id,
    count(distinct member_key) as member_count,
    count(*) as transaction_count,
    sum(case when transaction_type = 'earn' then points_delta else 0 end) as points_earned,
    -sum(case when transaction_type = 'redeem' then points_delta else 0 end) as points_redeemed,
    -sum(case when transaction_type = 'expire' then points_delta else 0 end) as points_expired,
    sum(case when transaction_type = 'adjust' then points_delta else 0 end) as points_adjusted,
    sum(points_delta) as points_balance,
    min(transacted_at_local) as first_transaction_at_local,
    max(transacted_at_local) as last_transaction_at_local
from ledger
group by customer_id
