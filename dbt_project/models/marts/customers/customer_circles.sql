{#-
    Circle (圈层) of every customer: prospect -> fan -> friend -> partner, the highest circle whose
    rule it meets (rules in customer_circles.yml; thresholds are dbt vars).
-#}
with

customers as (

    select * from {{ ref('int_customers__features') }}

),

referrals as (

    select * from {{ ref('fct_referrals') }}
    where is_referrer_resolved and not is_self_referral

),

referrers as (

    select
        referrer_customer_id as customer_id,
        count(*) as referred_customer_count,
        sum(case when has_converted then 1 else 0 end) as converted_referral_count
    from referrals
    group by referrer_customer_id

),

facts as (

    select
        customers.customer_id,
        customers.is_member,
        customers.valid_order_count,
        customers.follow_count,
        coalesce(referrers.referred_customer_count, 0) as referred_customer_count,
        coalesce(referrers.converted_referral_count, 0) as converted_referral_count
    from customers
    left join referrers
        on customers.customer_id = referrers.customer_id

),

circled as (

    select
        *,
        case
            when converted_referral_count >= {{ var('circle_partner_min_converted_referrals') }}
                then 'partner'
            when is_member and valid_order_count >= {{ var('circle_friend_min_orders') }}
                then 'friend'
            when valid_order_count > 0 or follow_count > 0 or is_member
                then 'fan'
            else 'prospect'
        end as circle  -- noqa: RF04
    from facts

)

select
    customer_id,
    circle,
    case circle  -- noqa: RF04
        when 'prospect' then 1
        when 'fan' then 2
        when 'friend' then 3
        when 'partner' then 4
    end as circle_rank,
    is_member,
    valid_order_count,
    follow_count,
    referred_customer_count,
    converted_referral_count
from circled
