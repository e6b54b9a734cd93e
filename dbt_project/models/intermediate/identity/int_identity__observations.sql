-- Canonical identifiers per record; raw values that identify nobody (masked, invalid) drop out.
-- Incremental by record: follows the records int_identity__sightings reprocessed.
{%- set record_key = ['record_source', 'record_id'] %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}

with

sightings as (

    select * from {{ ref('int_identity__sightings') }}
    {%- if is_incremental() %}
    where processed_through_utc > {{ incremental_watermark() }}
    {%- endif %}

),

canonical_forms as (

    select * from {{ source('identity', 'identifier_canonical_forms') }}

),

current_observations as (

    select distinct
        sightings.record_source,
        sightings.record_id,
        sightings.observed_at_utc,
        sightings.identity_type,
        canonical_forms.identity_value,
        sightings.raw_source,
        sightings.export_day
    from sightings
    inner join canonical_forms
        on
            sightings.identity_type = canonical_forms.identity_type
            and sightings.identity_value_raw = canonical_forms.identity_value_raw
    where canonical_forms.identity_value is not null

)

{{ replace_records_batch('current_observations',
    in_changed_partition('this_rows.raw_source', 'this_rows.export_day'),
    record_key=record_key) }}
