with

source as (

    select * from {{ source('raw', 'refunds') }}

),

renamed as (

    select
        ---------- ids
        channel,
        trim(refund_id) as refund_id,
        trim(order_id) as order_id,
        trim(sku_id) as sku_id,

        ---------- text
        trim(reason) as refund_reason,

        ---------- numerics
        quantity,
        refund_amount as refund_amount_cny,

        ---------- timestamps
        refund_time as refunded_at_utc,
        {{ to_local_time('refund_time') }} as refunded_at_local,
        {{ to_local_date('refund_time') }} as refund_date_local,

        ---------- lineage
        _source_file as source_file,
        _line as source_line,
        _load_id as load_id,
        _partition_day as export_day,
        _loaded_at as loaded_at_utc

    from source

),

deduplicated as (

    select
        *,
        {{ latest_record_first(['channel', 'refund_id']) }} as copy_rank
    from renamed

)

select
    channel,
    refund_id,
    order_id,
    case when channel = 'pos' then order_id end as receipt_id,
    sku_id,
    quantity,
    refund_amount_cny,
    refund_reason,
    sku_id is not null as is_line_refund,
    refunded_at_utc,
    refunded_at_local,
    refund_date_local,
    source_file,
    source_line,
    load_id,
    export_day,
    loaded_at_utc
from deduplicated
where copy_rank = 1
