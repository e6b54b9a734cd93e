{#-
    Cross-channel campaign conversion rate (跨渠道营销活动转化率) per month, over every campaign:
    converted / touched customers of campaign_roi_monthly, summed over campaigns (a customer
    touched by two campaigns counts once for each). Touch counts repeat on every attribution
    model's row and do not depend on the model: one model's rows are read.
    A month's rate is final once each of its touches has had the whole lookback to convert (its
    last day + var('attribution_lookback_days') <= the day of the data's last touch): until then
    only touches that already converted are in journeys and the rate is biased up
    (journeys_docs.md, `journey`), so it is null and only `_to_date` is given.
-#}
with

campaign_roi as (

    select * from {{ ref('campaign_roi_monthly') }}
    where attribution_model = 'last_touch'

),

data_end as (

    select cast(max(touched_at_local) as date) as last_touch_date
    from {{ ref('fct_touchpoints') }}

),

monthly as (

    select
        month_start,
        sum(case when touched_customers > 0 then 1 else 0 end) as campaigns_with_touches,
        sum(touched_customers) as touched_customers,
        sum(converted_customers) as converted_customers
    from campaign_roi
    group by month_start

),

with_window as (

    select
        monthly.month_start,
        monthly.campaigns_with_touches,
        monthly.touched_customers,
        monthly.converted_customers,
        cast(monthly.converted_customers as double)
        / nullif(monthly.touched_customers, 0) as campaign_conversion_rate_to_date,
        coalesce(
            {{ dbt.dateadd(
                'day', var('attribution_lookback_days'), month_end('monthly.month_start')) }}
            <= data_end.last_touch_date,
            false
        ) as is_window_complete
    from monthly
    cross join data_end

)

select
    month_start,
    campaigns_with_touches,
    touched_customers,
    converted_customers,
    is_window_complete,
    case
        when is_window_complete then campaign_conversion_rate_to_date
    end as campaign_conversion_rate,
    campaign_conversion_rate_to_date
from with_window
