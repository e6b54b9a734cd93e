with

source as (

    select * from {{ source('raw', 'pos_receipt_lines') }}

),

renamed as (

    select
        ---------- ids
        trim(receipt_id) as receipt_id,
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
        {{ latest_record_first(['receipt_id', 'line_number']) }} as copy_rank
    from renamed

)

select
    {{ dbt.concat(['receipt_id', "'-'", 'cast(line_number as ' ~ dbt.type_string() ~ ')']) }}
        as receipt_line_id,
    receipt_id,
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
