{#-
    One row per member: the latest version (by updated_at) of stg_crm__member_changes, which
    holds the deduplicated history from raw.crm_members.
-#}
with

member_changes as (

    select * from {{ ref('stg_crm__member_changes') }}

),

latest as (

    select
        member_id,
        phone_raw,
        member_name_raw,
        unionid,
        signup_channel,
        tier,
        home_store_id,
        referrer_member_id,
        has_marketing_consent,
        signed_up_at_utc,
        signed_up_at_local,
        signup_date_local,
        consent_updated_at_utc,
        consent_updated_at_local,
        updated_at_utc,
        updated_at_local,
        version_number as version_count,
        source_file,
        source_line,
        load_id,
        export_day,
        loaded_at_utc
    from member_changes
    where is_latest_version

)

select
    member_id,
    phone_raw,
    member_name_raw,
    unionid,
    signup_channel,
    tier,
    home_store_id,
    referrer_member_id,
    referrer_member_id is not null as is_referred,
    has_marketing_consent,
    signed_up_at_utc,
    signed_up_at_local,
    signup_date_local,
    consent_updated_at_utc,
    consent_updated_at_local,
    updated_at_utc,
    updated_at_local,
    version_count,
    source_file,
    source_line,
    load_id,
    export_day,
    loaded_at_utc
from latest
