{#-
    Referrals (以老带新): one row per referred customer, with the customer who referred them (the
    referrer member named on the referred member's record, resolved through the identity graph),
    the referred customer's sign-up and their first valid purchase on or after signing up.
-#}
with

member_versions as (

    select * from {{ ref('stg_crm__member_changes') }}

),

record_customers as (

    select * from {{ ref('int_identity__record_customers') }}

),

purchases as (

    select * from {{ ref('int_customers__valid_purchases') }}

),

first_referral_versions as (

    -- the first version of each member that names a referrer
    select
        member_version_id,
        member_id,
        signup_channel,
        signed_up_at_local,
        signup_date_local
    from (
        select
            *,
            row_number() over (
                partition by member_id order by version_number
            ) as referral_version_rank
        from member_versions
        where referrer_member_id is not null
    ) as referral_versions
    where referral_version_rank = 1

),

resolved as (

    select
        referred.customer_id as referred_customer_id,
        referrer.customer_id as referrer_customer_id,
        first_referral_versions.signup_channel,
        first_referral_versions.signed_up_at_local,
        first_referral_versions.signup_date_local,
        row_number() over (
            partition by referred.customer_id
            order by first_referral_versions.signed_up_at_local, first_referral_versions.member_id
        ) as signup_rank
    from first_referral_versions
    inner join record_customers as referred
        on
            referred.record_source = 'crm_member'
            and first_referral_versions.member_version_id = referred.record_id
    left join record_customers as referrer
        on
            referrer.record_source = 'crm_referrer'
            and first_referral_versions.member_version_id = referrer.record_id

),

referrals as (

    select * from resolved
    where signup_rank = 1

),

first_purchases as (

    select
        referrals.referred_customer_id,
        min(purchases.ordered_at_local) as first_valid_purchase_at_local
    from referrals
    inner join purchases
        on
            referrals.referred_customer_id = purchases.customer_id
            and referrals.signup_date_local <= purchases.order_date_local
    group by referrals.referred_customer_id

)

select
    referrals.referred_customer_id,
    referrals.referrer_customer_id,
    referrals.referrer_customer_id is not null as is_referrer_resolved,
    coalesce(referrals.referrer_customer_id = referrals.referred_customer_id, false)
        as is_self_referral,
    referrals.signup_channel as referred_signup_channel,
    referrals.signed_up_at_local as referred_signed_up_at_local,
    referrals.signup_date_local as referred_signup_date_local,
    first_purchases.first_valid_purchase_at_local,
    cast(first_purchases.first_valid_purchase_at_local as date)
        as first_valid_purchase_date_local,
    {{ dbt.datediff(
        'referrals.signup_date_local',
        'cast(first_purchases.first_valid_purchase_at_local as date)',
        'day') }} as days_to_first_purchase,
    first_purchases.first_valid_purchase_at_local is not null as has_converted
from referrals
left join first_purchases
    on referrals.referred_customer_id = first_purchases.referred_customer_id
