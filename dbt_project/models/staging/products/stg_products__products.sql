with

source as (

    select * from {{ source('raw', 'products') }}

),

renamed as (

    select
        ---------- ids
        trim(sku_id) as sku_id,
        trim(product_id) as product_id,

        ---------- text
        trim(product_name) as product_name,
        trim(category) as category,

        ---------- numerics
        list_price as list_price_cny,

        ---------- dates
        launched_date,

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
        {{ latest_record_first(['sku_id']) }} as copy_rank
    from renamed

)

select
    sku_id,
    product_id,
    product_name,
    category,
    list_price_cny,
    launched_date,
    source_file,
    source_line,
    load_id,
    export_day,
    loaded_at_utc
from deduplicated
where copy_rank = 1
