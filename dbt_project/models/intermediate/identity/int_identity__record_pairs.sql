{#-
    Each pair of identifiers seen together on one record, one row per record and pair: the
    edges of the identity graph before they are counted (int_identity__edges). Incremental by
    record: a night pairs only the records int_identity__record_identifiers reprocessed,
    instead of joining every record's identifiers again (the self-join over 24.5M
    observations took most of a 37 s night at 1,000,000 customers).
    A row keeps one raw partition of its record, as int_identity__record_identifiers does (the
    earlier of its two identifiers').
-#}
{%- set record_key = ['record_source', 'record_id'] %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}

with

record_identifiers as (

    select * from {{ ref('int_identity__record_identifiers') }}
    {%- if is_incremental() %}
    where processed_through_utc > {{ incremental_watermark() }}
    {%- endif %}

),

record_pairs as (

    select
        a.record_source,
        a.record_id,
        a.identity_type as type_a,
        a.identity_value as value_a,
        b.identity_type as type_b,
        b.identity_value as value_b,
        a.raw_source,
        least(a.export_day, b.export_day) as export_day
    from record_identifiers as a
    inner join record_identifiers as b
        on
            a.record_source = b.record_source
            and a.record_id = b.record_id
            and (
                a.identity_type < b.identity_type
                or (a.identity_type = b.identity_type and a.identity_value < b.identity_value)
            )

)

{#- a reprocessed record left with fewer than two identifiers has no pair to replace its rows -#}
{{ replace_records_batch('record_pairs',
    in_changed_partition('this_rows.raw_source', 'this_rows.export_day')
    ~ ' or exists (select 1 from record_identifiers as reprocessed'
    ~ ' where reprocessed.record_source = this_rows.record_source'
    ~ ' and reprocessed.record_id = this_rows.record_id)',
    record_key=record_key) }}
