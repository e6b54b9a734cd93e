-- Incremental by record: a night re-reads from raw only the records with a copy in a changed raw
-- partition or whose row here came from one, and replaces their rows (see docs.md, incremental).
{%- set record_key = 'points_transaction_id' %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}

with

source as (

    {{ raw_copies_to_restage('crm_points', {'points_transaction_id': 'trim(points_txn_id)'}) }}

),

renamed as (

    select
        ---------- ids
        trim(points_txn_id) as points_transaction_id,
        trim(member_id) as member_id,
        channel,
        trim(order_id) as order_id,

        ---------- text
        txn_type as transaction_type,

        ---------- numerics
        points as points_delta,

        ---------- timestamps
        txn_time as transacted_at_utc,
        {{ to_local_time('txn_time') }} as transacted_at_local,
        {{ to_local_date('txn_time') }} as transaction_date_local,

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
        {{ latest_record_first(['points_transaction_id']) }} as copy_rank
    from renamed

),

current_transactions as (

    select
        points_transaction_id,
        member_id,
        channel,
        order_id,
        transaction_type,
        points_delta,
        transacted_at_utc,
        transacted_at_local,
        transaction_date_local,
        source_file,
        source_line,
        load_id,
        export_day,
        loaded_at_utc
    from deduplicated
    where copy_rank = 1

)

{{ replace_records_batch('current_transactions',
    in_changed_partition("'crm_points'", 'this_rows.export_day'),
    record_key=record_key) }}
