{#- Marketing ROI per local day, channel and attribution model (macro journey_roi). -#}
with

roi as (

    {{ journey_roi('day', 'channel') }}

)

select
    period_start as date_day,
    channel,
    attribution_model,
    spend_cny,
    impressions,
    clicks,
    attributed_revenue_cny,
    attributed_conversions,
    attributed_new_customers,
    roas,
    roi,
    cost_per_new_customer_cny,
    touched_customers,
    converted_customers,
    conversion_rate,
    converting_touches,
    avg_touches_per_converted_customer
from roi
