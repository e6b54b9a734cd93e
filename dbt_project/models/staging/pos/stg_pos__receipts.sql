with

source as (

    select * from {{ source('raw', 'pos_receipts') }}

),

renamed as (

    select
        ---------- ids
        trim(receipt_id) as receipt_id,
        trim(store_id) as store_id,
        trim(member_id) as member_id,
        trim(phone) as phone_raw,
        trim(guide_id) as guide_id,
        trim(pickup_order_id) as pickup_order_id,
        pickup_platform,

        ---------- text
        customer_name as customer_name_raw,

        ---------- numerics
        gross_amount as gross_amount_cny,
        discount_amount as discount_amount_cny,

        ---------- timestamps
        receipt_time as purchased_at_utc,
        {{ to_local_time('receipt_time') }} as purchased_at_local,
        {{ to_local_date('receipt_time') }} as purchase_date_local,

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
        {{ latest_record_first(['receipt_id']) }} as copy_rank
    from renamed

)

select
    receipt_id,
    cast('pos' as {{ dbt.type_string() }}) as channel,
    store_id,
    member_id,
    phone_raw,
    customer_name_raw,
    guide_id,
    pickup_order_id,
    pickup_platform,
    pickup_order_id is not null as is_pickup_fulfilment,
    gross_amount_cny,
    discount_amount_cny,
    gross_amount_cny - discount_amount_cny as net_amount_cny,
    purchased_at_utc,
    purchased_at_local,
    purchase_date_local,
    source_file,
    source_line,
    load_id,
    export_day,
    loaded_at_utc
from deduplicated
where copy_rank = 1
