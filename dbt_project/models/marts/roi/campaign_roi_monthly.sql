{#- Marketing ROI per local month, campaign and attribution model (macro journey_roi). -#}
with

roi as (

    {{ journey_roi('month', 'campaign') }}

),

campaigns as (

    select * from {{ ref('stg_marketing__campaigns') }}

)

select
    roi.period_start as month_start,
    roi.campaign_id,
    campaigns.campaign_name,
    campaigns.channel,
    campaigns.objective,
    campaigns.promoted_category,
    roi.attribution_model,
    roi.spend_cny,
    roi.impressions,
    roi.clicks,
    roi.attributed_revenue_cny,
    roi.attributed_conversions,
    roi.attributed_new_customers,
    roi.roas,
    roi.roi,
    roi.cost_per_new_customer_cny,
    roi.touched_customers,
    roi.converted_customers,
    roi.conversion_rate,
    roi.converting_touches,
    roi.avg_touches_per_converted_customer
from roi
left join campaigns
    on roi.campaign_id = campaigns.campaign_id
