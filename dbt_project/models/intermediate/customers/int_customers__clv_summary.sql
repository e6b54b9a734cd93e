{#-
    The customer lifetime value models' input: one row per customer with a valid purchase
    (int_customers__valid_purchases), in the `lifetimes` convention with time in days. A
    purchase is a purchase day: a customer's orders on one local day count once, their net
    revenue summed. Summarised here, in the warehouse, so that the CLV asset reads one row per
    customer instead of every order.
-#}
with

purchases as (

    select * from {{ ref('int_customers__valid_purchases') }}

),

observation as (

    select max(order_date_local) as observation_end_date
    from {{ ref('fct_orders') }}

),

purchase_days as (

    select
        customer_id,
        order_date_local as purchase_date_local,
        sum(net_revenue_cny) as net_revenue_cny
    from purchases
    group by customer_id, order_date_local

),

first_purchase_days as (

    select
        customer_id,
        min(purchase_date_local) as first_purchase_date_local
    from purchase_days
    group by customer_id

),

customers as (

    select
        purchase_days.customer_id,
        first_purchase_days.first_purchase_date_local as first_day,
        max(purchase_days.purchase_date_local) as last_day,
        count(*) - 1 as repeat_purchase_days,
        avg(
            case
                when
                    purchase_days.purchase_date_local
                    > first_purchase_days.first_purchase_date_local
                    then purchase_days.net_revenue_cny
            end
        ) as mean_repeat_purchase_day_cny
    from purchase_days
    inner join first_purchase_days
        on purchase_days.customer_id = first_purchase_days.customer_id
    group by purchase_days.customer_id, first_purchase_days.first_purchase_date_local

)

select
    customers.customer_id,
    customers.repeat_purchase_days,
    {{ dbt.datediff('customers.first_day', 'customers.last_day', 'day') }}
        as recency_days,
    {{ dbt.datediff('customers.first_day', 'observation.observation_end_date', 'day') }}
        as age_days,
    coalesce(customers.mean_repeat_purchase_day_cny, 0) as mean_repeat_purchase_day_cny,
    observation.observation_end_date
from customers
cross join observation
