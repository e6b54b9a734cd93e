-- Each record resolved to one customer: the customer of its strongest identifier. Incremental by
-- record: reprocesses the records whose observations changed, that observe an identifier whose
-- customer changed (a merge, a split, an erasure) or that belonged to a customer who lost one.
{%- set record_key = ['record_source', 'record_id'] %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}

with

{%- if is_incremental() %}

-- A record's observations are rebuilt together, so the rows stamped after the watermark are
-- every row of the records whose observations changed. The records re-resolved for another
-- reason are a small key set, matched against the other rows only: the identity map is then
-- joined to about 1% of the observations on a night, not to all of them before a filter.
records_to_re_resolve as (

    {{ records_with_changed_identifiers() }}
    union
    select record_source, record_id from {{ this }}
    where customer_id in ({{ customers_with_removed_identifiers() }})

),

observations as (

    select * from {{ ref('int_identity__observations') }}
    where
        record_source <> 'store_master'
        and processed_through_utc > {{ incremental_watermark() }}

    union all

    select observations.*
    from {{ ref('int_identity__observations') }} as observations
    inner join records_to_re_resolve
        on
            observations.record_source = records_to_re_resolve.record_source
            and observations.record_id = records_to_re_resolve.record_id
    where
        observations.record_source <> 'store_master'
        and observations.processed_through_utc <= {{ incremental_watermark() }}

),

{%- else %}

observations as (

    select * from {{ ref('int_identity__observations') }}
    where record_source <> 'store_master'

),

{%- endif %}

identity_map as (

    select * from {{ source('identity', 'customer_identity_map') }}
    where customer_id is not null

),

identity_types as (

    select * from {{ ref('identity_types') }}

),

candidates as (

    select
        observations.record_source,
        observations.record_id,
        identity_map.customer_id,
        observations.identity_type,
        observations.raw_source,
        observations.export_day,
        row_number() over (
            partition by observations.record_source, observations.record_id
            order by identity_types.priority, identity_map.customer_id
        ) as strength_rank
    from observations
    inner join identity_map
        on
            observations.identity_type = identity_map.identity_type
            and observations.identity_value = identity_map.identity_value
    inner join identity_types
        on observations.identity_type = identity_types.identity_type

),

current_record_customers as (

    select
        record_source,
        record_id,
        customer_id,
        identity_type as resolved_by_identity_type,
        raw_source,
        export_day
    from candidates
    where strength_rank = 1

)

{{ replace_records_batch('current_record_customers',
    in_changed_partition('this_rows.raw_source', 'this_rows.export_day')
    ~ ' or exists (select 1 from records_to_re_resolve'
    ~ ' where records_to_re_resolve.record_source = this_rows.record_source'
    ~ ' and records_to_re_resolve.record_id = this_rows.record_id)',
    with_identity=true,
    record_key=record_key) }}
