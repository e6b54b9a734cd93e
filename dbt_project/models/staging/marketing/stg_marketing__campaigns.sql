with

source as (

    select * from {{ source('raw', 'campaigns') }}

),

renamed as (

    select
        ---------- ids
        trim(campaign_id) as campaign_id,

        ---------- text
        trim(campaign_name) as campaign_name,
        channel,
        objective,
        trim(promoted_category) as promoted_category,

        ---------- dates
        start_date,
        end_date,

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
        {{ latest_record_first(['campaign_id']) }} as copy_rank
    from renamed

)

select
    campaign_id,
    campaign_name,
    channel,
    objective,
    promoted_category,
    start_date,
    end_date,
    -- both ends included; the adapter's datediff renders long on one line
    {{ dbt.datediff('start_date', 'end_date', 'day') }} + 1 as duration_days,  -- noqa: LT05
    source_file,
    source_line,
    load_id,
    export_day,
    loaded_at_utc
from deduplicated
where copy_rank = 1
