-- Every identifier seen on every record, before canonicalisation. Incremental by record.
{%- set record_key = ['record_source', 'record_id'] %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}

with

current_sightings as (

    {{ identity_sightings('stg_pos__receipts', 'pos_receipts', 'pos_receipt', 'receipt_id',
        'purchased_at_utc', {"'member_id'": 'member_id', "'phone'": 'phone_raw'}) }}
    union all
    {{ identity_sightings('stg_crm__member_changes', 'crm_members', 'crm_member',
        'member_version_id', 'updated_at_utc',
        {"'member_id'": 'member_id', "'phone'": 'phone_raw', "'unionid'": 'unionid'}) }}
    union all
    {{ identity_sightings('stg_ecom__orders', 'ecom_orders', 'ecom_order',
        dbt.concat(['platform', "':'", 'order_id']), 'ordered_at_utc', {
        "case when platform = 'miniprogram' then 'openid' else "
        ~ dbt.concat(['platform', "'_buyer_id'"]) ~ " end": 'buyer_id',
        "'member_id'": 'member_id', "'phone'": 'phone_raw', "'unionid'": 'unionid'}) }}
    union all
    {{ identity_sightings('stg_social__events', 'social_events', 'social_event', 'event_id',
        'occurred_at_utc', {
        dbt.concat(['platform', "'_user_id'"]): 'platform_user_id',
        "'unionid'": 'unionid', "'openid'": 'openid', "'phone'": 'phone_raw',
        "'member_id'": 'member_id', "'device_id'": 'device_id'}) }}
    union all
    {{ identity_sightings('stg_stores__visits', 'store_visits', 'store_visit', 'visit_id',
        'visited_at_utc',
        {"'member_id'": 'member_id', "'phone'": 'phone_raw', "'device_id'": 'device_id'}) }}
    union all
    -- Stores' own phones: seen so that they can be blocked, never linked to anyone.
    {{ identity_sightings('stg_stores__stores', 'stores', 'store_master', 'store_id',
        'loaded_at_utc', {"'phone'": 'store_phone_raw'}) }}
    union all
    -- Referrers named on member records: canonicalised so that referrals resolve to customers.
    -- Each is a record of one identifier, so it adds a node but never an edge.
    {{ identity_sightings('stg_crm__member_changes', 'crm_members', 'crm_referrer',
        'member_version_id', 'updated_at_utc', {"'member_id'": 'referrer_member_id'}) }}

)

{{ replace_records_batch('current_sightings',
    in_changed_partition('this_rows.raw_source', 'this_rows.export_day'),
    record_key=record_key) }}
