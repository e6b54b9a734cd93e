-- Incremental by event: a night re-reads from raw only the events with a copy in a changed raw
-- partition or whose row here came from one, and replaces their rows (see docs.md, incremental).
{%- set record_key = 'event_id' %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}

with

source as (

    {{ raw_copies_to_restage('social_events', {'event_id': 'trim(event_id)'}) }}

),

renamed as (

    select
        ---------- ids
        trim(event_id) as event_id,
        platform,
        trim(platform_user_id) as platform_user_id,
        trim(unionid) as unionid,
        trim(openid) as openid,
        trim(phone) as phone_raw,
        trim(member_id) as member_id,
        trim(device_id) as device_id,
        trim(content_id) as content_id,
        trim(campaign_id) as campaign_id,
        trim(guide_id) as guide_id,
        trim(store_id) as store_id,

        ---------- text
        event_type,

        ---------- timestamps
        event_time as occurred_at_utc,
        {{ to_local_time('event_time') }} as occurred_at_local,
        {{ to_local_date('event_time') }} as event_date_local,

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
        {{ latest_record_first(['event_id']) }} as copy_rank
    from renamed

),

current_events as (

    select
        event_id,
        platform as channel,
        platform,
        event_type,
        platform_user_id,
        unionid,
        openid,
        phone_raw,
        member_id,
        device_id,
        content_id,
        campaign_id,
        guide_id,
        store_id,
        occurred_at_utc,
        occurred_at_local,
        event_date_local,
        source_file,
        source_line,
        load_id,
        export_day,
        loaded_at_utc
    from deduplicated
    where copy_rank = 1

)

{{ replace_records_batch('current_events',
    in_changed_partition("'social_events'", 'this_rows.export_day'),
    record_key=record_key) }}
