{#-
    One row per customer with touch records (int_customers__touch_records): their touches per
    kind, the channels they used and their latest seeding touch, the touch facts of
    int_customers__features.

    Incremental by customer: a night aggregates again the customers with a touch record rebuilt
    after its watermark, or deleted (re-resolved to someone else, or vanished), which the touch
    records log in audit.replaced_rows; a customer with none left loses their row. The touch
    records are read whole only by a full refresh.
-#}
{%- set record_key = 'customer_id' %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}
{%- set rebuilt_customers_only %}
{%- if is_incremental() %}
and customer_id in (select customer_id from customers_to_rebuild)
{%- endif %}
{%- endset %}
with
{%- if is_incremental() %}

customers_to_rebuild as (

    select customer_id from {{ ref('int_customers__touch_records') }}
    where processed_through_utc > {{ incremental_watermark() }}

    union

    select replaced.customer_id
    from ({{ replaced_rows_since_watermark('int_customers__touch_records') }}) as replaced

),
{%- endif %}

-- the touch records are imported once per reader, with the columns it needs: one import read by
-- two CTEs is materialised whole by DuckDB first
touch_counts as (

    select
        customer_id,
        sum(case when touch_kind <> 'member_update' then 1 else 0 end) as touch_count,
        sum(case when channel = 'pos' then 1 else 0 end) as store_touch_count,
        sum(case when touch_kind = 'follow' then 1 else 0 end) as follow_count,
        sum(case when touch_kind = 'consultation' then 1 else 0 end) as consultation_count,
        sum(case when touch_kind in ('sign_up', 'member_update') then 1 else 0 end)
            as member_record_count,
        max(
            case
                when
                    touch_kind = 'content_touch'
                    and channel in (
                        {%- for platform in var('tag_recently_seeded_platforms') %}
                        '{{ platform }}'{% if not loop.last %},{% endif %}
                        {%- endfor %}
                    )
                    then touch_date_local
            end
        ) as last_seeding_touch_date_local
    from {{ ref('int_customers__touch_records') }}
    where true {{ rebuilt_customers_only }}
    group by customer_id

),

touch_channels as (

    select distinct
        customer_id,
        channel
    from {{ ref('int_customers__touch_records') }}
    where channel is not null {{ rebuilt_customers_only }}

),

channel_summary as (

    select
        customer_id,
        count(*) as channel_count,
        {{ dbt.listagg('channel', "','", 'order by channel') }} as channels_used
    from touch_channels
    group by customer_id

),

touch_summary as (

    select
        touch_counts.customer_id,
        touch_counts.touch_count,
        touch_counts.store_touch_count,
        touch_counts.follow_count,
        touch_counts.consultation_count,
        touch_counts.member_record_count,
        touch_counts.last_seeding_touch_date_local,
        coalesce(channel_summary.channel_count, 0) as channel_count,
        channel_summary.channels_used
    from touch_counts
    left join channel_summary
        on touch_counts.customer_id = channel_summary.customer_id

)

{{ replace_records_batch('touch_summary',
    'this_rows.customer_id in (select customer_id from customers_to_rebuild)',
    with_identity=true,
    record_key=record_key) }}
