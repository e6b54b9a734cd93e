-- Incremental by record: a night re-reads from raw only the records with a copy in a changed raw
-- partition or whose row here came from one, and replaces their rows (see docs.md, incremental).
{%- set record_key = ['platform', 'order_id', 'line_number'] %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
    log_replaced_rows=dbt.concat(['platform', "':'", 'order_id']),
) }}

with

source as (

    {{ raw_copies_to_restage('ecom_order_lines', {
        'platform': 'platform',
        'order_id': 'trim(order_id)',
        'line_number': 'line_no',
    }) }}

),

renamed as (

    select
        ---------- ids
        platform,
        trim(order_id) as order_id,
        line_no as line_number,
        trim(sku_id) as sku_id,

        ---------- numerics
        quantity,
        unit_price as unit_price_cny,
        line_amount as line_amount_cny,

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
        {{ latest_record_first(['platform', 'order_id', 'line_number']) }} as copy_rank
    from renamed

),

current_lines as (

    select
        platform,
        order_id,
        line_number,
        sku_id,
        quantity,
        unit_price_cny,
        line_amount_cny,
        source_file,
        source_line,
        load_id,
        export_day,
        loaded_at_utc
    from deduplicated
    where copy_rank = 1

)

{{ replace_records_batch('current_lines',
    in_changed_partition("'ecom_order_lines'", 'this_rows.export_day'),
    record_key=record_key) }}
