{#-
    Every campaign touch (a touchpoint carrying a campaign_id: social events and the purchases a
    platform credits to a campaign) with its share of the campaign's spend and why it was wasted.
    Allocation: each (campaign, spend day)'s spend is split evenly over the campaign's touches
    on that local day; spend of a campaign-day without touches stays unallocated.
    Waste (journeys_docs.md, `marketing_waste`), first reason that applies:
    - opted_out: a member record of the customer valid at the touch has marketing consent false;
    - recent_buyer: the customer bought the campaign's promoted category in a valid sale within
      var('waste_recent_purchase_days') days before the touch;
    - over_frequency_cap: the touch is beyond the customer's var('touch_frequency_cap_per_month')-th
      marketing touch of the local month (numbered by int_journeys__numbered_campaign_touches).
    Anonymous touches carry spend but cannot be judged: never waste.
-#}
{%- set recent_days = var('waste_recent_purchase_days') %}
{%- set cap = var('touch_frequency_cap_per_month') %}
with

touchpoints as (

    select * from {{ ref('fct_touchpoints') }}

),

spend as (

    select * from {{ ref('stg_marketing__spend') }}

),

campaigns as (

    select * from {{ ref('stg_marketing__campaigns') }}

),

member_versions as (

    select * from {{ ref('stg_crm__member_changes') }}

),

record_customers as (

    select * from {{ ref('int_identity__record_customers') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

numbered_campaign_touches as (

    select * from {{ ref('int_journeys__numbered_campaign_touches') }}

),

-- the identified marketing touches come numbered; the others (anonymous touches, and the
-- purchases a platform credits to a campaign) have no month number
campaign_touches as (

    select
        touchpoint_key,
        customer_id,
        channel,
        touchpoint_type,
        campaign_id,
        touched_at_local,
        touch_date_local,
        month_touch_number
    from numbered_campaign_touches

    union all

    select
        touchpoint_key,
        customer_id,
        channel,
        touchpoint_type,
        campaign_id,
        touched_at_local,
        touch_date_local,
        cast(null as {{ dbt.type_bigint() }}) as month_touch_number
    from touchpoints
    where
        campaign_id is not null
        and not (is_marketing_touch and customer_id is not null)

),

-- each campaign-day's spend per touch, from a grouping joined to the few thousand spend rows: a
-- window over the millions of campaign touches took 5 of the model's 32 CPU-seconds at
-- 1,000,000 customers
campaign_days as (

    select
        campaign_id,
        touch_date_local,
        count(*) as campaign_day_touches
    from campaign_touches
    group by campaign_id, touch_date_local

),

campaign_day_spend as (

    select
        spend.campaign_id,
        spend.spend_date,
        spend.channel,
        spend.spend_cny / campaign_days.campaign_day_touches as allocated_spend_cny
    from spend
    inner join campaign_days
        on
            spend.campaign_id = campaign_days.campaign_id
            and spend.spend_date = campaign_days.touch_date_local

),

consent_versions as (

    select
        record_customers.customer_id,
        {{ to_local_time('member_versions.valid_from_utc') }} as valid_from_local,
        {{ to_local_time('member_versions.valid_to_utc') }} as valid_to_local
    from member_versions
    inner join record_customers
        on
            member_versions.member_version_id = record_customers.record_id
            and record_customers.record_source = 'crm_member'
    where not member_versions.has_marketing_consent

),

opted_out_touches as (

    select distinct campaign_touches.touchpoint_key
    from campaign_touches
    inner join consent_versions
        on
            campaign_touches.customer_id = consent_versions.customer_id
            and campaign_touches.touched_at_local >= consent_versions.valid_from_local
            and (
                consent_versions.valid_to_local is null
                or campaign_touches.touched_at_local < consent_versions.valid_to_local
            )

),

-- each identified touch with its campaign's category first, then its customer's order lines:
-- joined in one step, DuckDB paired the order lines with every campaign of their category
-- (12.9M rows at 1M customers) before it matched the touches: the model took 9.1 CPU-seconds,
-- now 7.8
promoted_touches as (

    select
        campaign_touches.touchpoint_key,
        campaign_touches.customer_id,
        campaign_touches.touched_at_local,
        campaigns.promoted_category
    from campaign_touches
    inner join campaigns
        on campaign_touches.campaign_id = campaigns.campaign_id
    where campaign_touches.customer_id is not null

),

recent_buyer_touches as (

    select distinct promoted_touches.touchpoint_key
    from promoted_touches
    inner join order_lines
        on
            promoted_touches.customer_id = order_lines.customer_id
            and promoted_touches.promoted_category = order_lines.category
            and order_lines.is_valid_sale
            and promoted_touches.touched_at_local > order_lines.ordered_at_local
            and {{ dbt.dateadd('day', -recent_days, 'promoted_touches.touched_at_local') }}
            <= order_lines.ordered_at_local

),

allocated as (

    select
        campaign_touches.touchpoint_key,
        campaign_touches.customer_id,
        campaign_touches.customer_id is not null as is_identified,
        campaign_day_spend.channel,
        campaign_touches.touchpoint_type,
        campaign_touches.campaign_id,
        campaign_touches.touched_at_local,
        campaign_touches.touch_date_local,
        campaign_touches.month_touch_number,
        campaign_day_spend.allocated_spend_cny,
        opted_out_touches.touchpoint_key is not null as is_opted_out,
        recent_buyer_touches.touchpoint_key is not null as is_recent_buyer,
        coalesce(campaign_touches.month_touch_number > {{ cap }}, false) as is_over_frequency_cap
    from campaign_touches
    inner join campaign_day_spend
        on
            campaign_touches.campaign_id = campaign_day_spend.campaign_id
            and campaign_touches.touch_date_local = campaign_day_spend.spend_date
    left join opted_out_touches
        on campaign_touches.touchpoint_key = opted_out_touches.touchpoint_key
    left join recent_buyer_touches
        on campaign_touches.touchpoint_key = recent_buyer_touches.touchpoint_key

)

select
    touchpoint_key,
    customer_id,
    is_identified,
    channel,
    touchpoint_type,
    campaign_id,
    touched_at_local,
    touch_date_local,
    month_touch_number,
    allocated_spend_cny,
    is_opted_out,
    is_recent_buyer,
    is_over_frequency_cap,
    case
        when is_opted_out then 'opted_out'
        when is_recent_buyer then 'recent_buyer'
        when is_over_frequency_cap then 'over_frequency_cap'
    end as waste_reason,
    is_opted_out or is_recent_buyer or is_over_frequency_cap as is_wasted
from allocated
