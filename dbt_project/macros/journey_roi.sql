{#-
    The ROI of marketing per period and channel or campaign, one row per attribution model:
    the one definition behind channel_roi_daily, channel_roi_monthly and campaign_roi_monthly.
    period: 'day' or 'month'; by: 'channel' or 'campaign'.
    - spend, impressions, clicks: stg_marketing__spend on the spend date;
    - attributed revenue / conversions / new customers: fct_attribution_credits on the conversion
      date (new customers: credits of conversions that are the customer's first purchase);
    - roas = attributed revenue / spend; roi = (attributed revenue − spend) / spend;
      cost per new customer = spend / attributed new customers;
    - touched / converted customers, conversion rate, average touches per converted customer:
      marketing touches in journeys (direct touches excluded) on the touch date; a customer
      converted when one of those touches is on a converting journey.
-#}
{% macro journey_roi(period, by) -%}
{%- set key = 'channel' if by == 'channel' else 'campaign_id' %}
{%- set models = [
    'first_touch', 'last_touch', 'linear', 'time_decay', 'position_based', 'markov'
] %}
with

spend as (

    select * from {{ ref('stg_marketing__spend') }}

),

credits as (

    select * from {{ ref('fct_attribution_credits') }}

),

journey_touches as (

    select * from {{ ref('int_journeys__journey_touches') }}

),

attribution_models as (

    {% for model in models %}
    select '{{ model }}' as attribution_model
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

spend_per_period as (

    select
        period_start,
        {{ key }},
        sum(spend_cny) as spend_cny,
        sum(impressions) as impressions,
        sum(clicks) as clicks
    from (
        select
            {{ key }},
            spend_cny,
            impressions,
            clicks,
            cast({{ dbt.date_trunc(period, 'spend_date') }} as date) as period_start
        from spend
    ) as dated
    group by period_start, {{ key }}

),

credits_per_period as (

    select
        period_start,
        {{ key }},
        attribution_model,
        sum(credited_revenue_cny) as attributed_revenue_cny,
        sum(credit_share) as attributed_conversions,
        sum(case when is_first_purchase then credit_share else 0 end)
            as attributed_new_customers
    from (
        select
            {{ key }},
            attribution_model,
            credited_revenue_cny,
            credit_share,
            is_first_purchase,
            cast({{ dbt.date_trunc(period, 'conversion_date_local') }} as date) as period_start
        from credits
        where {{ key }} is not null
    ) as dated
    group by period_start, {{ key }}, attribution_model

),

touches_per_period as (

    select
        period_start,
        {{ key }},
        count(distinct customer_id) as touched_customers,
        count(distinct case when is_converting then customer_id end) as converted_customers,
        sum(case when is_converting then 1 else 0 end) as converting_touches
    from (
        select
            {{ key }},
            customer_id,
            is_converting,
            cast({{ dbt.date_trunc(period, 'touch_date_local') }} as date) as period_start
        from journey_touches
        where
            not is_direct
            and {{ key }} is not null
    ) as dated
    group by period_start, {{ key }}

),

keys as (

    select period_start, {{ key }} from spend_per_period
    union
    select period_start, {{ key }} from credits_per_period
    union
    select period_start, {{ key }} from touches_per_period

),

combined as (

    select
        keys.period_start,
        keys.{{ key }},
        attribution_models.attribution_model,
        coalesce(spend_per_period.spend_cny, 0) as spend_cny,
        coalesce(spend_per_period.impressions, 0) as impressions,
        coalesce(spend_per_period.clicks, 0) as clicks,
        coalesce(credits_per_period.attributed_revenue_cny, 0) as attributed_revenue_cny,
        coalesce(credits_per_period.attributed_conversions, 0) as attributed_conversions,
        coalesce(credits_per_period.attributed_new_customers, 0) as attributed_new_customers,
        coalesce(touches_per_period.touched_customers, 0) as touched_customers,
        coalesce(touches_per_period.converted_customers, 0) as converted_customers,
        coalesce(touches_per_period.converting_touches, 0) as converting_touches
    from keys
    cross join attribution_models
    left join spend_per_period
        on
            keys.period_start = spend_per_period.period_start
            and keys.{{ key }} = spend_per_period.{{ key }}
    left join credits_per_period
        on
            keys.period_start = credits_per_period.period_start
            and keys.{{ key }} = credits_per_period.{{ key }}
            and attribution_models.attribution_model = credits_per_period.attribution_model
    left join touches_per_period
        on
            keys.period_start = touches_per_period.period_start
            and keys.{{ key }} = touches_per_period.{{ key }}

)

select
    period_start,
    {{ key }},
    attribution_model,
    spend_cny,
    impressions,
    clicks,
    attributed_revenue_cny,
    attributed_conversions,
    attributed_new_customers,
    attributed_revenue_cny / nullif(spend_cny, 0) as roas,
    (attributed_revenue_cny - spend_cny) / nullif(spend_cny, 0) as roi,
    spend_cny / nullif(attributed_new_customers, 0) as cost_per_new_customer_cny,
    touched_customers,
    converted_customers,
    cast(converted_customers as {{ dbt.type_float() }})
    / nullif(touched_customers, 0) as conversion_rate,
    converting_touches,
    cast(converting_touches as {{ dbt.type_float() }})
    / nullif(converted_customers, 0) as avg_touches_per_converted_customer
from combined
{%- endmacro %}
