{#-
    Touch frequency (单用户平均触达频次) per local month and channel, and for all channels
    (channel = 'all'): identified marketing touches (fct_touchpoints, purchases excluded) per
    touched customer. Customers over the cap had more than var('touch_frequency_cap_per_month')
    touches in the month (all channels).
-#}
{%- set cap = var('touch_frequency_cap_per_month') %}
with

touchpoints as (

    select * from {{ ref('fct_touchpoints') }}
    where
        is_marketing_touch
        and customer_id is not null

),

customer_month_channel as (

    select
        touch_month as month_start,
        customer_id,
        channel,
        count(*) as touches
    from touchpoints
    group by touch_month, customer_id, channel

),

customer_month as (

    select
        month_start,
        customer_id,
        sum(touches) as touches
    from customer_month_channel
    group by month_start, customer_id

),

per_channel as (

    select
        month_start,
        channel,
        count(*) as touched_customers,
        sum(touches) as touches,
        cast(null as {{ dbt.type_int() }}) as customers_over_cap
    from customer_month_channel
    group by month_start, channel

),

all_channels as (

    select
        month_start,
        'all' as channel,
        count(*) as touched_customers,
        sum(touches) as touches,
        sum(case when touches > {{ cap }} then 1 else 0 end) as customers_over_cap
    from customer_month
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
    touched_customers,
    touches,
    cast(touches as {{ dbt.type_float() }}) / touched_customers as avg_touches_per_customer,
    customers_over_cap,
    cast(customers_over_cap as {{ dbt.type_float() }}) / touched_customers
        as share_of_customers_over_cap
from unioned
