with

source as (

    select * from {{ source('raw', 'channel_prices') }}

),

renamed as (

    select
        ---------- ids
        price_date,
        channel,
        trim(sku_id) as sku_id,

        ---------- text
        -- kept verbatim: title consistency across channels is measured on it
        product_title,

        ---------- numerics
        list_price as list_price_cny,

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
        {{ latest_record_first(['price_date', 'channel', 'sku_id']) }} as copy_rank
    from renamed

)

select
    price_date,
    channel,
    sku_id,
    list_price_cny,
    product_title,
    source_file,
    source_line,
    load_id,
    export_day,
    loaded_at_utc
from deduplicated
where copy_rank = 1
