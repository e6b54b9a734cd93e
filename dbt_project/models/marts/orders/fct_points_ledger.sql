{#-
    The member points ledger: one row per points transaction from any channel (earn, redeem,
    expire, adjust), with the member's running balance after it. Members are shown by
    `member_key` (a hash of the canonical member id) and `customer_id`, never by the raw id.
-#}
with

points as (

    select * from {{ ref('int_orders__points_transactions') }}

)

select
    points_transaction_id,
    member_key,
    customer_id,
    channel,
    order_key,
    transaction_type,
    points_delta,
    points_earned,
    points_spent,
    sum(points_delta) over (
        partition by member_key
        order by transacted_at_utc, points_transaction_id
        rows between unbounded preceding and current row
    ) as member_balance_after,
    row_number() over (
        partition by member_key
        order by transacted_at_utc, points_transaction_id
    ) as member_transaction_number,
    transacted_at_utc,
    transacted_at_local,
    transaction_date_local
from points
