{#-
    One row per canonical identifier with how many records saw it and when.
    Incremental by identifier: a night counts again only the identifiers of the record
    identifiers int_identity__record_identifiers rebuilt or deleted (it logs the rows it deletes
    in audit.replaced_rows, keyed `identity_type:identity_value`); an identifier no record sees
    any more is deleted. Regrouping all 24.5M record identifiers took 13 s of the 1M night.
-#}
{%- set record_key = ['identity_type', 'identity_value'] %}
{%- set identifier_key = dbt.concat(['identity_type', "':'", 'identity_value']) %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}

with
{%- if is_incremental() %}

identifiers_to_count as (

    select
        {{ dbt.split_part('row_key', "':'", 1) }} as identity_type,
        {{ dbt.right('row_key', dbt.length('row_key') ~ ' - ' ~ dbt.position("':'", 'row_key')) }}
            as identity_value
    from ({{ keys_rebuilt_since_watermark('int_identity__record_identifiers', identifier_key) }})
        as rebuilt

),
{%- endif %}

record_identifiers as (

    select * from {{ ref('int_identity__record_identifiers') }}
    {%- if is_incremental() %}
    where
        (identity_type, identity_value) in (
            select identity_type, identity_value from identifiers_to_count
        )
    {%- endif %}

),

identifiers as (

    select
        identity_type,
        identity_value,
        count(*) as n_records,
        min(first_seen_at_utc) as first_seen_at_utc,
        max(last_seen_at_utc) as last_seen_at_utc
    from record_identifiers
    group by identity_type, identity_value

)

{{ replace_records_batch(
    'identifiers',
    '(this_rows.identity_type, this_rows.identity_value) in'
    ~ ' (select identity_type, identity_value from identifiers_to_count)',
    record_key=record_key,
) }}
