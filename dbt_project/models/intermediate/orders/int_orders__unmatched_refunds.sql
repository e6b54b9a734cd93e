-- Refunds whose order (receipt for POS) is not in the order book: listed for follow-up.
with

refunds as (

    select * from {{ ref('int_orders__refunds') }}

)

select
    refund_key,
    channel,
    refund_id,
    order_id,
    sku_id,
    quantity,
    refund_amount_cny,
    refund_reason,
    refunded_at_utc,
    refunded_at_local,
    refund_date_local,
    loaded_at_utc
from refunds
where not is_matched
