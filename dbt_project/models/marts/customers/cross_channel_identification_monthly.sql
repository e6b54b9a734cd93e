{#-
    The cross-channel identification rate (跨渠道用户识别率), per month, cumulative to the month's
    end (the data's last day for the current month), in the two forms defined in
    cross_channel_identification_monthly.yml.
-#}
with

touches as (

    select * from {{ ref('int_customers__touch_records') }}
    where channel is not null

),

identities as (

    select * from {{ ref('customer_identities') }}

),

as_of as (

    select {{ customer_data_as_of_date() }} as as_of_date

),

months as (

    select
        distinct_months.month_start,
        case
            when {{ month_end('distinct_months.month_start') }} > as_of.as_of_date
                then as_of.as_of_date
            else {{ month_end('distinct_months.month_start') }}
        end as evaluated_on
    from ({{ customer_month_spine() }}) as distinct_months
    cross join as_of

),

-- (a) the day each customer was first seen in each channel; its 1st and 2nd channel days
customer_channel_starts as (

    select
        customer_id,
        channel,
        min(touch_date_local) as first_touch_date_local
    from touches
    group by customer_id, channel

),

ranked_channel_starts as (

    select
        customer_id,
        first_touch_date_local,
        row_number() over (
            partition by customer_id order by first_touch_date_local, channel
        ) as channel_number
    from customer_channel_starts

),

customer_channel_milestones as (

    select
        customer_id,
        min(first_touch_date_local) as first_channel_date_local,
        max(case when channel_number = 2 then first_touch_date_local end)
            as second_channel_date_local
    from ranked_channel_starts
    group by customer_id

),

customer_form as (

    select
        months.month_start,
        sum(
            case when milestones.first_channel_date_local <= months.evaluated_on then 1 else 0 end
        ) as customers_seen,
        sum(
            case when milestones.second_channel_date_local <= months.evaluated_on then 1 else 0 end
        ) as customers_seen_in_two_plus_channels
    from months
    cross join customer_channel_milestones as milestones
    group by months.month_start

),

-- (b) the day each customer came to hold a second identity
ranked_identities as (

    select
        customer_id,
        first_seen_date_local,
        row_number() over (
            partition by customer_id order by first_seen_date_local, identity_hash
        ) as identity_number
    from identities
    where customer_id is not null

),

multi_identity_since as (

    select
        customer_id,
        first_seen_date_local as multi_identity_since_date_local
    from ranked_identities
    where identity_number = 2

),

channel_identities as (

    select
        identities.identity_hash,
        identities.first_seen_date_local,
        multi_identity_since.multi_identity_since_date_local
    from identities
    left join multi_identity_since
        on identities.customer_id = multi_identity_since.customer_id
    where identities.identity_type not in ('member_id', 'phone')

),

identity_form as (

    select
        months.month_start,
        sum(
            case
                when channel_identities.first_seen_date_local <= months.evaluated_on then 1 else 0
            end
        ) as channel_identities_seen,
        sum(
            case
                when
                    channel_identities.first_seen_date_local <= months.evaluated_on
                    and channel_identities.multi_identity_since_date_local <= months.evaluated_on
                    then 1
                else 0
            end
        ) as channel_identities_resolved_to_multi_identity
    from months
    cross join channel_identities
    group by months.month_start

),

rates as (

    select
        months.month_start,
        months.evaluated_on,
        customer_form.customers_seen,
        customer_form.customers_seen_in_two_plus_channels,
        cast(customer_form.customers_seen_in_two_plus_channels as double)
        / nullif(customer_form.customers_seen, 0) as multi_channel_customer_rate,
        identity_form.channel_identities_seen,
        identity_form.channel_identities_resolved_to_multi_identity,
        cast(identity_form.channel_identities_resolved_to_multi_identity as double)
        / nullif(identity_form.channel_identities_seen, 0) as channel_identity_resolution_rate
    from months
    left join customer_form
        on months.month_start = customer_form.month_start
    left join identity_form
        on months.month_start = identity_form.month_start

),

baseline as (

    select
        rates.multi_channel_customer_rate as baseline_multi_channel_customer_rate,
        rates.channel_identity_resolution_rate as baseline_channel_identity_resolution_rate
    from rates
    where rates.month_start = (select min(months.month_start) as first_month from months)

)

select
    rates.month_start,
    rates.evaluated_on,
    rates.customers_seen,
    rates.customers_seen_in_two_plus_channels,
    rates.multi_channel_customer_rate,
    rates.channel_identities_seen,
    rates.channel_identities_resolved_to_multi_identity,
    rates.channel_identity_resolution_rate,
    rates.multi_channel_customer_rate / nullif(baseline.baseline_multi_channel_customer_rate, 0)
    - 1 as multi_channel_customer_rate_uplift,
    rates.channel_identity_resolution_rate
    / nullif(baseline.baseline_channel_identity_resolution_rate, 0)
    - 1 as channel_identity_resolution_rate_uplift,
    cast({{ var('cross_channel_identification_uplift_target') }} as double) as uplift_target
from rates
cross join baseline
