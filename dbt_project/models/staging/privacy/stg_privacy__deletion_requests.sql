with

source as (

    select * from {{ source('raw', 'deletion_requests') }}

),

renamed as (

    select
        ---------- ids
        trim(request_id) as request_id,
        trim(member_id) as member_id,
        trim(phone) as phone_raw,

        ---------- timestamps
        requested_at as requested_at_utc,
        {{ to_local_time('requested_at') }} as requested_at_local,

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
        {{ latest_record_first(['request_id']) }} as copy_rank
    from renamed

)

select
    request_id,
    member_id,
    phone_raw,
    requested_at_utc,
    requested_at_local,
    source_file,
    source_line,
    load_id,
    export_day,
    loaded_at_utc
from deduplicated
where copy_rank = 1
