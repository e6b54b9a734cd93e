{#-
    One row per order line of every sales channel (POS receipt lines and online order lines),
    with the order's customer, channel crediting and validity. Line amounts are before the
    order-level discount.

    Incremental by order: a night rebuilds the lines of the orders int_orders__orders rebuilt or
    deleted and of those whose lines staging restaged or deleted; every line when the product
    list changed.
-#}
{%- set record_key = 'order_line_key' %}
{%- set online_record_id = dbt.concat(['platform', "':'", 'order_id']) %}
{%- set pos_order_key = dbt.hash(dbt.concat(["'pos'", "':'", 'receipt_id'])) %}
{%- set online_order_key = dbt.hash(online_record_id) %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}

with
{%- if is_incremental() %}

order_keys_to_reprocess as (

    select rebuilt.row_key as order_key
    from ({{ keys_rebuilt_since_watermark('int_orders__orders', 'order_key') }}) as rebuilt
    {#- the staging models key a line by its order's record id: the receipt, or platform:order_id #}
    union
    select {{ dbt.hash(dbt.concat(["'pos'", "':'", 'restaged.row_key'])) }}
    from ({{ keys_rebuilt_since_watermark('stg_pos__receipt_lines', 'receipt_id') }}) as restaged
    union
    select {{ dbt.hash('restaged.row_key') }}
    from ({{ keys_rebuilt_since_watermark('stg_ecom__order_lines', online_record_id) }}) as restaged

),

-- a product's category or list price changed: every line is rebuilt
products_changed as (

    select count(*) > 0 as is_changed
    from {{ source('audit', 'partition_changes') }}
    where source = 'products' and changed_at > {{ incremental_watermark() }}

),
{%- endif %}

pos_lines as (

    select * from {{ ref('stg_pos__receipt_lines') }}
    {%- if is_incremental() %}
    where
        (select is_changed from products_changed)
        or {{ pos_order_key }} in (select order_key from order_keys_to_reprocess)
    {%- endif %}

),

online_lines as (

    select * from {{ ref('stg_ecom__order_lines') }}
    {%- if is_incremental() %}
    where
        (select is_changed from products_changed)
        or {{ online_order_key }} in (select order_key from order_keys_to_reprocess)
    {%- endif %}

),

orders as (

    select * from {{ ref('int_orders__orders') }}

),

products as (

    select * from {{ ref('stg_products__products') }}

),

unioned as (

    select
        cast('pos' as {{ dbt.type_string() }}) as channel,
        receipt_id as order_id,
        line_number,
        sku_id,
        quantity,
        unit_price_cny,
        line_amount_cny
    from pos_lines

    union all

    select
        platform as channel,
        order_id,
        line_number,
        sku_id,
        quantity,
        unit_price_cny,
        line_amount_cny
    from online_lines

),

current_lines as (

    select
        {{ dbt.hash(dbt.concat([
            'unioned.channel', "':'", 'unioned.order_id', "':'",
            'cast(unioned.line_number as ' ~ dbt.type_string() ~ ')'])) }} as order_line_key,
        {{ dbt.hash(dbt.concat(['unioned.channel', "':'", 'unioned.order_id'])) }} as order_key,
        unioned.channel,
        unioned.order_id,
        unioned.line_number,
        unioned.sku_id,
        products.product_id,
        products.category,
        unioned.quantity,
        unioned.unit_price_cny,
        unioned.line_amount_cny,
        products.list_price_cny as standard_price_cny,
        orders.customer_id,
        orders.sales_channel,
        orders.store_id,
        orders.fulfilment_store_id,
        orders.is_pickup_order,
        orders.order_key is not null as has_order,
        coalesce(orders.is_valid_sale, false) as is_valid_sale,
        case
            when orders.order_key is null then 'order_missing'
            else orders.exclusion_reason
        end as exclusion_reason,
        orders.ordered_at_local,
        orders.order_date_local
    from unioned
    left join orders
        on
            unioned.channel = orders.channel
            and unioned.order_id = orders.order_id
    left join products
        on unioned.sku_id = products.sku_id

)

{{ replace_records_batch(
    'current_lines',
    '(select is_changed from products_changed)'
    ~ ' or this_rows.order_key in (select order_key from order_keys_to_reprocess)',
    record_key=record_key,
    with_identity=true,
) }}
