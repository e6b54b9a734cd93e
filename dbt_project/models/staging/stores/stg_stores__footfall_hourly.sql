with

source as (

    select * from {{ source('raw', 'store_footfall') }}

),

renamed as (

    select
        ---------- ids
        trim(store_id) as store_id,

        ---------- timestamps
        hour_start as hour_started_at_utc,
        {{ to_local_time('hour_start') }} as hour_started_at_local,
        {{ to_local_date('hour_start') }} as footfall_date_local,

        ---------- numerics
        visitors as visitor_count,

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
        {{ latest_record_first(['store_id', 'hour_started_at_utc']) }} as copy_rank
    from renamed

)

select
    store_id,
    hour_started_at_utc,
    hour_started_at_local,
    footfall_date_local,
    extract(hour from hour_started_at_local) as hour_of_day_local,
    visitor_count,
    source_file,
    source_line,
    load_id,
    export_day,
    loaded_at_utc
from deduplicated
where copy_rank = 1
