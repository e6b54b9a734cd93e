-- Incremental by record: a night re-reads from raw only the records with a copy in a changed raw
-- partition or whose row here came from one, and replaces their rows (see docs.md, incremental).
{%- set record_key = 'receipt_id' %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
    log_replaced_rows='receipt_id',
) }}

with

source as (

    {{ raw_copies_to_restage('pos_receipts', {'receipt_id': 'trim(receipt_id)'}) }}

),

renamed as (

    select
        ---------- ids
        trim(receipt_id) as receipt_id,
        trim(store_id) as store_id,
        trim(member_id) as member_id,
        trim(phone) as phone_raw,
        trim(guide_id) as guide_id,
        trim(pickup_order_id) as pickup_order_id,
        pickup_platform,

        ---------- text
        customer_name as customer_name_raw,

        ---------- numerics
        gross_amount as gross_amount_cny,
        discount_amount as discount_amount_cny,

        ---------- timestamps
        receipt_time as purchased_at_utc,
        {{ to_local_time('receipt_time') }} as purchased_at_local,
        {{ to_local_date('receipt_time') }} as purchase_date_local,

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
        {{ latest_record_first(['receipt_id']) }} as copy_rank
    from renamed

),

current_receipts as (

    select
        receipt_id,
        cast('pos' as {{ dbt.type_string() }}) as channel,
        store_id,
        member_id,
        phone_raw,
        customer_name_raw,
        guide_id,
        pickup_order_id,
        pickup_platform,
        pickup_order_id is not null as is_pickup_fulfilment,
        gross_amount_cny,
        discount_amount_cny,
        gross_amount_cny - discount_amount_cny as net_amount_cny,
        purchased_at_utc,
        purchased_at_local,
        purchase_date_local,
        source_file,
        source_line,
        load_id,
        export_day,
        loaded_at_utc
    from deduplicated
    where copy_rank = 1

)

{{ replace_records_batch('current_receipts',
    in_changed_partition("'pos_receipts'", 'this_rows.export_day'),
    record_key=record_key) }}
