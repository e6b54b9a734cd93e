{#-
    Every identity-bearing record resolved to its customer (int_identity__record_customers), with
    its channel, its local time and what kind of touch it was. Records whose identifiers are all
    blocked or shared are anonymous and have no row. Referrer mentions (crm_referrer) are not a
    touch by the referrer and are left to fct_referrals.

    Incremental by record: a night reprocesses the records of changed raw partitions and those
    whose customer was re-resolved (their old rows are replaced, or deleted when they resolve to
    no one now). An order whose status changed arrives again in a later export, so its partition
    changed; a member's versions are reprocessed all together, since a version arriving late or
    vanishing renumbers the others (which one is the sign-up). The rows it deletes are logged
    with their customer and record_source only: a member version's id holds the member id,
    which must not outlive the member's erasure in audit.replaced_rows.
-#}
{%- set record_key = ['record_source', 'record_id'] %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
    log_replaced_rows='record_source',
) }}
with

record_customers as (

    select * from {{ ref('int_identity__record_customers') }}

),

{%- if is_incremental() %}

records_to_reprocess as (

    {{ records_to_reprocess(
        "case this_rows.record_source"
        ~ " when 'pos_receipt' then 'pos_receipts'"
        ~ " when 'ecom_order' then 'ecom_orders'"
        ~ " when 'crm_member' then 'crm_members'"
        ~ " when 'social_event' then 'social_events'"
        ~ " when 'store_visit' then 'store_visits' end") }}

),

receipts_to_reprocess as (

    {{ touch_ids_to_reprocess(ref('stg_pos__receipts'), 'pos_receipts', 'pos_receipt', 'receipt_id',
        'records_to_reprocess') }}

),

staged_online_orders as (

    select
        {{ dbt.concat(['platform', "':'", 'order_id']) }} as record_id,
        export_day
    from {{ ref('stg_ecom__orders') }}

),

online_orders_to_reprocess as (

    {{ touch_ids_to_reprocess('staged_online_orders', 'ecom_orders', 'ecom_order', 'record_id',
        'records_to_reprocess') }}

),

member_versions_changed as (

    {{ touch_ids_to_reprocess(ref('stg_crm__member_changes'), 'crm_members', 'crm_member', 'member_version_id',
        'records_to_reprocess') }}

),

-- the members of the changed versions, vanished ones included: a member_version_id is the
-- member_id, '@' and the version's time (stg_crm__member_changes)
members_to_reprocess as (

    select distinct regexp_replace(record_id, '@[^@]*$', '') as member_id
    from member_versions_changed

),

member_versions_to_reprocess as (

    select record_id from member_versions_changed
    union
    select member_versions.member_version_id as record_id
    from {{ ref('stg_crm__member_changes') }} as member_versions
    inner join members_to_reprocess
        on member_versions.member_id = members_to_reprocess.member_id

),

social_events_to_reprocess as (

    {{ touch_ids_to_reprocess(ref('stg_social__events'), 'social_events', 'social_event', 'event_id',
        'records_to_reprocess') }}

),

visits_to_reprocess as (

    {{ touch_ids_to_reprocess(ref('stg_stores__visits'), 'store_visits', 'store_visit', 'visit_id',
        'records_to_reprocess') }}

),
{%- endif %}

receipts as (

    select * from {{ ref('stg_pos__receipts') }}
    {%- if is_incremental() %}
    where receipt_id in (select record_id from receipts_to_reprocess)
    {%- endif %}

),

visits as (

    select * from {{ ref('stg_stores__visits') }}
    {%- if is_incremental() %}
    where visit_id in (select record_id from visits_to_reprocess)
    {%- endif %}

),

online_orders as (

    select * from {{ ref('stg_ecom__orders') }}
    {%- if is_incremental() %}
    where
        {{ dbt.concat(['platform', "':'", 'order_id']) }}
        in (select record_id from online_orders_to_reprocess)
    {%- endif %}

),

social_events as (

    select * from {{ ref('stg_social__events') }}
    {%- if is_incremental() %}
    where event_id in (select record_id from social_events_to_reprocess)
    {%- endif %}

),

member_versions as (

    select * from {{ ref('stg_crm__member_changes') }}
    {%- if is_incremental() %}
    where member_version_id in (select record_id from member_versions_to_reprocess)
    {%- endif %}

),

touches as (

    select
        'pos_receipt' as record_source,
        receipt_id as record_id,
        channel,
        case when is_pickup_fulfilment then 'store_pickup' else 'purchase' end as touch_kind,
        cast(null as {{ dbt.type_string() }}) as touch_detail,
        store_id,
        purchased_at_utc as touched_at_utc,
        purchased_at_local as touched_at_local,
        export_day
    from receipts

    union all

    select
        'store_visit' as record_source,
        visit_id as record_id,
        'pos' as channel,
        'store_visit' as touch_kind,
        cast(null as {{ dbt.type_string() }}) as touch_detail,
        store_id,
        visited_at_utc as touched_at_utc,
        visited_at_local as touched_at_local,
        export_day
    from visits

    union all

    select
        'ecom_order' as record_source,
        {{ dbt.concat(['platform', "':'", 'order_id']) }} as record_id,
        channel,
        'purchase' as touch_kind,
        status as touch_detail,
        pickup_store_id as store_id,
        ordered_at_utc as touched_at_utc,
        ordered_at_local as touched_at_local,
        export_day
    from online_orders

    union all

    select
        'social_event' as record_source,
        event_id as record_id,
        channel,
        case
            when event_type = 'consultation' then 'consultation'
            when event_type = 'follow' then 'follow'
            when event_type = 'campaign_click' then 'campaign_click'
            when event_type = 'miniprogram_visit' then 'site_visit'
            else 'content_touch'
        end as touch_kind,
        event_type as touch_detail,
        store_id,
        occurred_at_utc as touched_at_utc,
        occurred_at_local as touched_at_local,
        export_day
    from social_events

    union all

    -- the first version of a member is the sign-up, on its sign-up channel; later versions are
    -- profile changes in the CRM, not a channel touch (no channel)
    select
        'crm_member' as record_source,
        member_version_id as record_id,
        case when version_number = 1 then signup_channel end as channel,
        case when version_number = 1 then 'sign_up' else 'member_update' end as touch_kind,
        tier as touch_detail,
        home_store_id as store_id,
        case
            when version_number = 1 then signed_up_at_utc else updated_at_utc
        end as touched_at_utc,
        case
            when version_number = 1 then signed_up_at_local else updated_at_local
        end as touched_at_local,
        export_day
    from member_versions

),

touch_rows as (

    select
        touches.record_source,
        touches.record_id,
        record_customers.customer_id,
        record_customers.resolved_by_identity_type,
        touches.channel,
        touches.touch_kind,
        touches.touch_detail,
        touches.store_id,
        touches.touched_at_utc,
        touches.touched_at_local,
        cast(touches.touched_at_local as date) as touch_date_local,
        touches.export_day
    from touches
    inner join record_customers
        on
            touches.record_source = record_customers.record_source
            and touches.record_id = record_customers.record_id

)

{%- set reprocessed = {
    'pos_receipt': 'receipts_to_reprocess',
    'ecom_order': 'online_orders_to_reprocess',
    'crm_member': 'member_versions_to_reprocess',
    'social_event': 'social_events_to_reprocess',
    'store_visit': 'visits_to_reprocess',
} %}
{%- set tombstones = [] %}
{%- for record_source, ids in reprocessed.items() %}
{%- do tombstones.append("(this_rows.record_source = '" ~ record_source ~ "'"
    ~ " and this_rows.record_id in (select record_id from " ~ ids ~ "))") %}
{%- endfor %}
{{ replace_records_batch('touch_rows', tombstones | join(' or '),
    with_identity=true,
    record_key=record_key) }}
