{#-
    An order is exported again each time its status changes (paid -> shipped -> completed, or
    cancelled), and the same status can be re-exported. Keep one row per (platform, order_id):
    the attributes of the latest status (by updated_at), plus when each status was first seen.
-#}
-- Incremental by order: a night re-reads from raw every copy of the orders with a copy in a changed
-- raw partition, or with one here in a partition that changed (an older status may have vanished:
-- held orders are matched on the span of days their copies were exported on), and replaces them.
{%- set record_key = ['platform', 'order_id'] %}
{%- set held_order_changed = changed_partition_between(
    "'ecom_orders'", 'this_rows.first_export_day', 'this_rows.last_export_day'
) if is_incremental() %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
    log_replaced_rows=dbt.concat(['platform', "':'", 'order_id']),
) }}

with

source as (

    {{ raw_copies_to_restage(
        'ecom_orders',
        {'platform': 'platform', 'order_id': 'trim(order_id)'},
        held_rows_changed=held_order_changed,
    ) }}

),

renamed as (

    select
        ---------- ids
        platform,
        trim(order_id) as order_id,
        trim(buyer_id) as buyer_id,
        trim(member_id) as member_id,
        trim(phone) as phone_raw,
        trim(unionid) as unionid,
        trim(pickup_store_id) as pickup_store_id,
        trim(campaign_id) as campaign_id,

        ---------- text
        receiver_name as receiver_name_raw,
        status,

        ---------- numerics
        gross_amount as gross_amount_cny,
        discount_amount as discount_amount_cny,

        ---------- booleans
        coalesce(is_test, false) as is_test_order,

        ---------- timestamps
        order_time as ordered_at_utc,
        updated_at as updated_at_utc,

        ---------- lineage
        _source_file as source_file,
        _line as source_line,
        _load_id as load_id,
        _partition_day as export_day,
        _loaded_at as loaded_at_utc

    from source

),

status_versions as (

    select
        *,
        {{ latest_record_first(['platform', 'order_id'], ['updated_at_utc']) }} as version_rank,
        row_number() over (
            partition by platform, order_id
            order by updated_at_utc asc, loaded_at_utc asc, source_file asc, source_line asc
        ) as first_version_rank
    from renamed

),

status_history as (

    select
        platform,
        order_id,
        min(case when status = 'paid' then updated_at_utc end) as paid_at_utc,
        min(case when status = 'shipped' then updated_at_utc end) as shipped_at_utc,
        min(case when status = 'completed' then updated_at_utc end) as completed_at_utc,
        min(case when status = 'cancelled' then updated_at_utc end) as cancelled_at_utc,
        count(distinct status) as status_count,
        min(export_day) as first_export_day,
        max(export_day) as last_export_day
    from status_versions
    group by platform, order_id

),

first_seen as (

    select
        platform,
        order_id,
        status as first_seen_status
    from status_versions
    where first_version_rank = 1

),

latest as (

    select *
    from status_versions
    where version_rank = 1

),

current_orders as (

    select
        latest.platform,
        latest.order_id,
        latest.platform as channel,
        latest.buyer_id,
        latest.member_id,
        latest.phone_raw,
        latest.receiver_name_raw,
        latest.unionid,
        latest.campaign_id,
        latest.pickup_store_id,
        latest.pickup_store_id is not null as is_pickup_order,
        latest.is_test_order,
        latest.status,
        first_seen.first_seen_status,
        status_history.status_count,
        latest.status = 'cancelled' as is_cancelled,
        latest.gross_amount_cny,
        latest.discount_amount_cny,
        latest.gross_amount_cny - latest.discount_amount_cny as net_amount_cny,
        latest.ordered_at_utc,
        {{ to_local_time('latest.ordered_at_utc') }} as ordered_at_local,
        {{ to_local_date('latest.ordered_at_utc') }} as order_date_local,
        status_history.paid_at_utc,
        status_history.shipped_at_utc,
        status_history.completed_at_utc,
        status_history.cancelled_at_utc,
        latest.updated_at_utc,
        {{ to_local_time('latest.updated_at_utc') }} as updated_at_local,
        latest.source_file,
        latest.source_line,
        latest.load_id,
        latest.export_day,
        status_history.first_export_day,
        status_history.last_export_day,
        latest.loaded_at_utc
    from latest
    inner join status_history
        on
            latest.platform = status_history.platform
            and latest.order_id = status_history.order_id
    inner join first_seen
        on
            latest.platform = first_seen.platform
            and latest.order_id = first_seen.order_id

)

{{ replace_records_batch('current_orders', held_order_changed, record_key=record_key) }}
