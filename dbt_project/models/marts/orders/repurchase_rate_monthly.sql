{#-
    Repurchase rate (复购率), the one definition, per calendar month (Asia/Shanghai) in two forms.
    A buyer is an identified customer (customer_id) with a valid sale (fct_orders.is_valid_sale:
    not cancelled, not a test, not the store hand-over of a pick-up order); anonymous orders
    are left out.
    (a) period repurchase rate: of the month's buyers, the share with two or more valid orders
        in that month.
    (b) first-time repurchase rate: of the customers whose first valid order in the order book
        falls in the month, the share who place another valid order within
        var('repurchase_window_days') days of it. Counted only over buyers whose window has
        fully elapsed by the last order day in the book; `_to_date` counts all of them.
-#}
with

orders as (

    select * from {{ ref('fct_orders') }}
    where is_valid_sale and customer_id is not null

),

book_end as (

    select max(order_date_local) as last_order_date
    from {{ ref('fct_orders') }}

),

monthly_buyers as (

    select
        {{ dbt.date_trunc('month', 'order_date_local') }} as order_month,
        customer_id,
        count(*) as order_count
    from orders
    group by {{ dbt.date_trunc('month', 'order_date_local') }}, customer_id

),

period_form as (

    select
        order_month,
        count(*) as buyer_count,
        sum(case when order_count >= 2 then 1 else 0 end) as repeat_buyer_count
    from monthly_buyers
    group by order_month

),

ranked_orders as (

    select
        customer_id,
        order_date_local,
        row_number() over (
            partition by customer_id order by ordered_at_utc, order_key
        ) as order_number
    from orders

),

first_and_second as (

    select
        customer_id,
        max(case when order_number = 1 then order_date_local end) as first_order_date,
        max(case when order_number = 2 then order_date_local end) as second_order_date
    from ranked_orders
    where order_number <= 2
    group by customer_id

),

first_time_buyers as (

    select
        first_and_second.customer_id,
        {{ dbt.date_trunc('month', 'first_and_second.first_order_date') }} as first_order_month,
        first_and_second.second_order_date is not null
        and {{ dbt.datediff(
            'first_and_second.first_order_date',
            'first_and_second.second_order_date',
            'day') }} <= {{ var('repurchase_window_days') }} as bought_again_in_window,
        {{ dbt.dateadd(
            'day', var('repurchase_window_days'), 'first_and_second.first_order_date') }}
        <= book_end.last_order_date as is_window_complete
    from first_and_second
    cross join book_end

),

first_time_form as (

    select
        first_order_month,
        count(*) as first_time_buyer_count,
        sum(case when bought_again_in_window then 1 else 0 end) as returned_to_date_count,
        sum(case when is_window_complete then 1 else 0 end) as window_complete_buyer_count,
        sum(case when is_window_complete and bought_again_in_window then 1 else 0 end)
            as returned_in_window_count
    from first_time_buyers
    group by first_order_month

),

months as (

    select order_month from period_form
    union
    select first_order_month as order_month from first_time_form

)

select
    cast(months.order_month as date) as order_month,
    coalesce(period_form.buyer_count, 0) as buyer_count,
    coalesce(period_form.repeat_buyer_count, 0) as repeat_buyer_count,
    cast(period_form.repeat_buyer_count as double)
    / nullif(period_form.buyer_count, 0) as period_repurchase_rate,
    coalesce(first_time_form.first_time_buyer_count, 0) as first_time_buyer_count,
    coalesce(first_time_form.window_complete_buyer_count, 0) as window_complete_buyer_count,
    coalesce(first_time_form.returned_in_window_count, 0) as returned_in_window_count,
    cast(first_time_form.returned_in_window_count as double)
    / nullif(first_time_form.window_complete_buyer_count, 0) as first_time_repurchase_rate,
    coalesce(first_time_form.returned_to_date_count, 0) as returned_to_date_count,
    cast(first_time_form.returned_to_date_count as double)
    / nullif(first_time_form.first_time_buyer_count, 0) as first_time_repurchase_rate_to_date,
    {{ var('repurchase_window_days') }} as repurchase_window_days,
    cast({{ var('repurchase_rate_target') }} as double) as repurchase_rate_target
from months
left join period_form
    on months.order_month = period_form.order_month
left join first_time_form
    on months.order_month = first_time_form.first_order_month
