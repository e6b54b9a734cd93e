{#-
    The value ring's operating loop (全渠道经营环) per acquisition month and acquisition channel
    (and channel = 'all'): how many of the customers acquired reach each stage, in order, as of
    the data's last day. Stages are nested, each requires the one before (journeys_docs.md,
    `value_ring`):
    1 acquisition: the customer's first touchpoint (any kind) is in the month, on the channel;
    2 conversion: an active interaction (anything but a passive content view) at or after it;
    3 purchase: a valid purchase;
    4 retention: a valid purchase on a later day than the first;
    5 activity: a touchpoint within var('value_ring_active_days') days of the data's last day;
    6 referral: referred at least one other customer (fct_referrals, self-referrals excluded).
-#}
{%- set active_days = var('value_ring_active_days') %}
{%- set stages = ['acquisition', 'conversion', 'purchase', 'retention', 'activity', 'referral'] %}
with

touchpoints as {{ inlined() }} (

    select * from {{ ref('fct_touchpoints') }}
    where customer_id is not null

),

conversions as (

    select * from {{ ref('int_journeys__conversions') }}

),

referrals as (

    select * from {{ ref('fct_referrals') }}

),

-- one pass over the touchpoints for every per-customer fact the stages need
customer_touches as (

    select
        customer_id,
        min(touched_at_local) as acquired_at_local,
        max(touched_at_local) as last_touched_at_local,
        max(case when touchpoint_type <> 'content_view' then 1 else 0 end) as is_engaged
    from touchpoints
    group by customer_id

),

data_end as (

    select max(last_touched_at_local) as last_touched_at_local
    from customer_touches

),

-- the first touch's channel; touches at the same instant are ordered by touchpoint_key
first_touches as (

    select
        touchpoints.customer_id,
        touchpoints.channel,
        touchpoints.touched_at_local,
        touchpoints.touch_month,
        row_number() over (
            partition by touchpoints.customer_id order by touchpoints.touchpoint_key asc
        ) as touch_number
    from touchpoints
    inner join customer_touches
        on
            touchpoints.customer_id = customer_touches.customer_id
            and touchpoints.touched_at_local = customer_touches.acquired_at_local

),

acquired as (

    select
        customer_id,
        channel as acquisition_channel,
        touch_month as acquisition_month,
        touched_at_local as acquired_at_local
    from first_touches
    where touch_number = 1

),

purchasers as (

    select
        customer_id,
        min(conversion_date_local) as first_purchase_date_local,
        max(conversion_date_local) as last_purchase_date_local
    from conversions
    group by customer_id

),

referrers as (

    select distinct referrer_customer_id as customer_id
    from referrals
    where
        referrer_customer_id is not null
        and not is_self_referral

),

customer_stages as (

    select
        acquired.customer_id,
        acquired.acquisition_month,
        acquired.acquisition_channel,
        1 as reached_acquisition,
        customer_touches.is_engaged,
        case when purchasers.customer_id is not null then 1 else 0 end as is_purchaser,
        case
            when purchasers.last_purchase_date_local > purchasers.first_purchase_date_local
                then 1
            else 0
        end as is_repeat_purchaser,
        case
            when
                customer_touches.last_touched_at_local
                > {{ dbt.dateadd('day', -active_days, 'data_end.last_touched_at_local') }}
                then 1
            else 0
        end as is_active,
        case when referrers.customer_id is not null then 1 else 0 end as is_referrer
    from acquired
    inner join customer_touches
        on acquired.customer_id = customer_touches.customer_id
    cross join data_end
    left join purchasers
        on acquired.customer_id = purchasers.customer_id
    left join referrers
        on acquired.customer_id = referrers.customer_id

),

nested as (

    select
        customer_id,
        acquisition_month,
        acquisition_channel,
        reached_acquisition,
        is_engaged as reached_conversion,
        is_engaged * is_purchaser as reached_purchase,
        is_engaged * is_purchaser * is_repeat_purchaser as reached_retention,
        is_engaged * is_purchaser * is_repeat_purchaser * is_active as reached_activity,
        is_engaged * is_purchaser * is_repeat_purchaser * is_active * is_referrer
            as reached_referral
    from customer_stages

),

per_channel as (

    select
        acquisition_month,
        acquisition_channel,
        sum(reached_acquisition) as acquisition_customers,
        sum(reached_conversion) as conversion_customers,
        sum(reached_purchase) as purchase_customers,
        sum(reached_retention) as retention_customers,
        sum(reached_activity) as activity_customers,
        sum(reached_referral) as referral_customers
    from nested
    group by acquisition_month, acquisition_channel

),

all_channels as (

    select
        acquisition_month,
        'all' as acquisition_channel,
        sum(reached_acquisition) as acquisition_customers,
        sum(reached_conversion) as conversion_customers,
        sum(reached_purchase) as purchase_customers,
        sum(reached_retention) as retention_customers,
        sum(reached_activity) as activity_customers,
        sum(reached_referral) as referral_customers
    from nested
    group by acquisition_month

),

funnel as (

    select * from per_channel
    union all
    select * from all_channels

),

stage_rows as (

    {%- for stage in stages %}
    select
        acquisition_month,
        acquisition_channel,
        {{ loop.index }} as stage_number,
        '{{ stage }}' as ring_stage,
        {{ stage }}_customers as customers,
        {{ (stages[loop.index0 - 1] if not loop.first else stage) }}_customers
            as previous_stage_customers,
        acquisition_customers
    from funnel
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

)

select
    acquisition_month as month_start,
    acquisition_channel as channel,
    stage_number,
    ring_stage,
    customers,
    previous_stage_customers,
    cast(customers as {{ dbt.type_float() }}) / nullif(acquisition_customers, 0)
        as share_of_acquired,
    1 - cast(customers as {{ dbt.type_float() }}) / nullif(previous_stage_customers, 0)
        as drop_off_from_previous_stage
from stage_rows
