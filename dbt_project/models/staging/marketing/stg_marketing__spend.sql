with

source as (

    select * from {{ source('raw', 'marketing_spend') }}

),

renamed as (

    select
        ---------- ids
        spend_date,
        channel,
        trim(campaign_id) as campaign_id,

        ---------- numerics
        spend_cny,
        impressions,
        clicks,

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
        {{ latest_record_first(['spend_date', 'channel', 'campaign_id']) }} as copy_rank
    from renamed

)

select
    spend_date,
    channel,
    campaign_id,
    spend_cny,
    impressions,
    clicks,
    source_file,
    source_line,
    load_id,
    export_day,
    loaded_at_utc
from deduplicated
where copy_rank = 1
