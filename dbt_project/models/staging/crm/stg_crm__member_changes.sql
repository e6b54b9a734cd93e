{#-
    Every version of every member (one row per member_id and updated_at), e.g. for the history of
    marketing consent and tier. The CRM exports a member each day it is created or changed; the
    same version can arrive more than once and is deduplicated.
-#}
-- Incremental by member: a night re-reads from raw every version of the members with a copy in a
-- changed raw partition or a version here that came from one, and replaces all their versions (the
-- versions of a member are numbered and chained together; see docs.md, incremental).
{%- set record_key = 'member_id' %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}

with

source as (

    {{ raw_copies_to_restage('crm_members', {'member_id': 'trim(member_id)'}) }}

),

renamed as (

    select
        ---------- ids
        trim(member_id) as member_id,
        trim(phone) as phone_raw,
        trim(unionid) as unionid,
        trim(home_store_id) as home_store_id,
        trim(referrer_member_id) as referrer_member_id,

        ---------- text
        member_name as member_name_raw,
        signup_channel,
        tier,

        ---------- booleans
        marketing_consent as has_marketing_consent,

        ---------- timestamps
        signup_time as signed_up_at_utc,
        consent_updated_at as consent_updated_at_utc,
        updated_at as updated_at_utc,

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
        {{ latest_record_first(['member_id', 'updated_at_utc']) }} as copy_rank
    from renamed

),

versions as (

    select
        *,
        row_number() over (
            partition by member_id order by updated_at_utc asc
        ) as version_number,
        lead(updated_at_utc) over (
            partition by member_id order by updated_at_utc asc
        ) as next_updated_at_utc,
        lag(has_marketing_consent) over (
            partition by member_id order by updated_at_utc asc
        ) as previous_has_marketing_consent,
        lag(tier) over (
            partition by member_id order by updated_at_utc asc
        ) as previous_tier
    from deduplicated
    where copy_rank = 1

),

current_versions as (

    select
        {{ dbt.concat(['member_id', "'@'", 'cast(updated_at_utc as ' ~ dbt.type_string() ~ ')']) }}
            as member_version_id,
        member_id,
        version_number,
        next_updated_at_utc is null as is_latest_version,
        updated_at_utc as valid_from_utc,
        next_updated_at_utc as valid_to_utc,
        phone_raw,
        member_name_raw,
        unionid,
        signup_channel,
        tier,
        previous_tier,
        home_store_id,
        referrer_member_id,
        has_marketing_consent,
        previous_has_marketing_consent,
        coalesce(
            has_marketing_consent <> previous_has_marketing_consent, false
        ) as is_consent_change,
        signed_up_at_utc,
        {{ to_local_time('signed_up_at_utc') }} as signed_up_at_local,
        {{ to_local_date('signed_up_at_utc') }} as signup_date_local,
        consent_updated_at_utc,
        {{ to_local_time('consent_updated_at_utc') }} as consent_updated_at_local,
        updated_at_utc,
        {{ to_local_time('updated_at_utc') }} as updated_at_local,
        source_file,
        source_line,
        load_id,
        export_day,
        loaded_at_utc
    from versions

)

{{ replace_records_batch('current_versions',
    in_changed_partition("'crm_members'", 'this_rows.export_day'),
    record_key=record_key) }}
