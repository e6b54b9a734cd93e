with

source as (

    select * from {{ source('raw', 'crm_points') }}

),

renamed as (

    select
        ---------- ids
        trim(points_txn_id) as points_transaction_id,
        trim(member_id) as member_id,
        channel,
        trim(order_id) as order_id,

        ---------- text
        txn_type as transaction_type,

        ---------- numerics
        points as points_delta,

        ---------- timestamps
        txn_time as transacted_at_utc,
        {{ to_local_time('txn_time') }} as transacted_at_local,
        {{ to_local_date('txn_time') }} as transaction_date_local,

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
        {{ latest_record_first(['points_transaction_id']) }} as copy_rank
    from renamed

)

select
    points_transaction_id,
    member_id,
    channel,
    order_id,
    transaction_type,
    points_delta,
    transacted_at_utc,
    transacted_at_local,
    transaction_date_local,
    source_file,
    source_line,
    load_id,
    export_day,
    loaded_at_utc
from deduplicated
where copy_rank = 1
