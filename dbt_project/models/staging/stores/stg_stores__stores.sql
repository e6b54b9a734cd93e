with

source as (

    select * from {{ source('raw', 'stores') }}

),

renamed as (

    select
        ---------- ids
        trim(store_id) as store_id,

        ---------- text
        trim(store_name) as store_name,
        store_type,
        trim(city) as city,
        trim(region) as region,
        trim(store_phone) as store_phone_raw,

        ---------- dates
        opened_date,

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
        {{ latest_record_first(['store_id']) }} as copy_rank
    from renamed

)

select
    store_id,
    store_name,
    store_type,
    store_type = 'franchise' as is_franchise_store,
    city,
    region,
    store_phone_raw,
    opened_date,
    source_file,
    source_line,
    load_id,
    export_day,
    loaded_at_utc
from deduplicated
where copy_rank = 1
