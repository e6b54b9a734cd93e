-- Incremental by record: a night re-reads from raw only the records with a copy in a changed raw
-- partition or whose row here came from one, and replaces their rows (see docs.md, incremental).
{%- set record_key = 'visit_id' %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}

with

source as (

    {{ raw_copies_to_restage('store_visits', {'visit_id': 'trim(visit_id)'}) }}

),

renamed as (

    select
        ---------- ids
        trim(visit_id) as visit_id,
        trim(store_id) as store_id,
        trim(member_id) as member_id,
        trim(phone) as phone_raw,
        trim(device_id) as device_id,

        ---------- timestamps
        visit_time as visited_at_utc,
        {{ to_local_time('visit_time') }} as visited_at_local,
        {{ to_local_date('visit_time') }} as visit_date_local,

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
        {{ latest_record_first(['visit_id']) }} as copy_rank
    from renamed

),

current_visits as (

    select
        visit_id,
        store_id,
        member_id,
        phone_raw,
        device_id,
        visited_at_utc,
        visited_at_local,
        visit_date_local,
        source_file,
        source_line,
        load_id,
        export_day,
        loaded_at_utc
    from deduplicated
    where copy_rank = 1

)

{{ replace_records_batch('current_visits',
    in_changed_partition("'store_visits'", 'this_rows.export_day'),
    record_key=record_key) }}
