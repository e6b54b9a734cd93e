{#-
    Marketing waste rate (营销资源浪费率) per local month and channel, and for all channels
    (channel = 'all'): the share of spend that went to wasted campaign touches
    (int_journeys__campaign_touch_spend; journeys_docs.md, `marketing_waste`).
    waste_rate = wasted_spend_cny / spend_cny; spend that no touch received is unallocated and
    is in the denominator, not in the waste.
-#}
with

spend as (

    select * from {{ ref('stg_marketing__spend') }}

),

touch_spend as (

    select * from {{ ref('int_journeys__campaign_touch_spend') }}

),

spend_monthly as (

    select
        channel,
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date) as month_start,
        spend_cny
    from spend

),

touch_spend_monthly as (

    select
        channel,
        cast({{ dbt.date_trunc('month', 'touch_date_local') }} as date) as month_start,
        allocated_spend_cny,
        is_wasted,
        waste_reason
    from touch_spend

),

spend_per_channel as (

    select
        month_start,
        channel,
        sum(spend_cny) as spend_cny
    from spend_monthly
    group by month_start, channel

),

allocation_per_channel as (

    select
        month_start,
        channel,
        count(*) as campaign_touches,
        sum(case when is_wasted then 1 else 0 end) as wasted_touches,
        sum(allocated_spend_cny) as allocated_spend_cny,
        sum(case when is_wasted then allocated_spend_cny else 0 end) as wasted_spend_cny,
        sum(case when waste_reason = 'opted_out' then allocated_spend_cny else 0 end)
            as wasted_opted_out_cny,
        sum(case when waste_reason = 'recent_buyer' then allocated_spend_cny else 0 end)
            as wasted_recent_buyer_cny,
        sum(case when waste_reason = 'over_frequency_cap' then allocated_spend_cny else 0 end)
            as wasted_over_frequency_cap_cny
    from touch_spend_monthly
    group by month_start, channel

),

per_channel as (

    select
        spend_per_channel.month_start,
        spend_per_channel.channel,
        spend_per_channel.spend_cny,
        coalesce(allocation_per_channel.campaign_touches, 0) as campaign_touches,
        coalesce(allocation_per_channel.wasted_touches, 0) as wasted_touches,
        coalesce(allocation_per_channel.allocated_spend_cny, 0) as allocated_spend_cny,
        coalesce(allocation_per_channel.wasted_spend_cny, 0) as wasted_spend_cny,
        coalesce(allocation_per_channel.wasted_opted_out_cny, 0) as wasted_opted_out_cny,
        coalesce(allocation_per_channel.wasted_recent_buyer_cny, 0) as wasted_recent_buyer_cny,
        coalesce(allocation_per_channel.wasted_over_frequency_cap_cny, 0)
            as wasted_over_frequency_cap_cny
    from spend_per_channel
    left join allocation_per_channel
        on
            spend_per_channel.month_start = allocation_per_channel.month_start
            and spend_per_channel.channel = allocation_per_channel.channel

),

all_channels as (

    select
        month_start,
        'all' as channel,
        sum(spend_cny) as spend_cny,
        sum(campaign_touches) as campaign_touches,
        sum(wasted_touches) as wasted_touches,
        sum(allocated_spend_cny) as allocated_spend_cny,
        sum(wasted_spend_cny) as wasted_spend_cny,
        sum(wasted_opted_out_cny) as wasted_opted_out_cny,
        sum(wasted_recent_buyer_cny) as wasted_recent_buyer_cny,
        sum(wasted_over_frequency_cap_cny) as wasted_over_frequency_cap_cny
    from per_channel
    group by month_start

),

unioned as (

    select * from per_channel
    union all
    select * from all_channels

)

select
    month_start,
    channel,
    spend_cny,
    allocated_spend_cny,
    spend_cny - allocated_spend_cny as unallocated_spend_cny,
    wasted_spend_cny,
    wasted_opted_out_cny,
    wasted_recent_buyer_cny,
    wasted_over_frequency_cap_cny,
    campaign_touches,
    wasted_touches,
    wasted_spend_cny / nullif(spend_cny, 0) as waste_rate,
    wasted_spend_cny / nullif(allocated_spend_cny, 0) as waste_rate_of_allocated
from unioned
