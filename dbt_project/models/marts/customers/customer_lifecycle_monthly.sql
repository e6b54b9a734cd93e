{#-
    Lifecycle stage of every customer in every month from the month it was first seen to the
    data's last month. Stages emerge from valid purchase dates only, judged at the month's end
    (the data's last day for the current month); thresholds are dbt vars. Definitions in
    customer_lifecycle_monthly.yml.
-#}
with

customers as (

    select * from {{ ref('int_customers__features') }}

),

purchases as (

    select * from {{ ref('int_customers__valid_purchases') }}

),

as_of as (

    select {{ customer_data_as_of_date() }} as as_of_date

),

-- month spine: the months present in the data, cross-database
months as (

    {{ customer_month_spine() }}

),

customer_months as (

    select
        customers.customer_id,
        months.month_start,
        case
            when {{ month_end('months.month_start') }} > as_of.as_of_date then as_of.as_of_date
            else {{ month_end('months.month_start') }}
        end as evaluated_on
    from customers
    cross join as_of
    inner join months
        on
            months.month_start
            >= cast({{ dbt.date_trunc('month', 'customers.first_seen_date_local') }} as date)
            and months.month_start
            <= cast({{ dbt.date_trunc('month', 'as_of.as_of_date') }} as date)

),

purchases_to_date as (

    select
        customer_months.customer_id,
        customer_months.month_start,
        customer_months.evaluated_on,
        min(purchases.order_date_local) as first_purchase_date_local,
        max(purchases.order_date_local) as last_purchase_date_local,
        count(purchases.order_key) as valid_orders_to_date,
        sum(
            case when purchases.order_date_local >= customer_months.month_start then 1 else 0 end
        ) as valid_orders_in_month
    from customer_months
    left join purchases
        on
            customer_months.customer_id = purchases.customer_id
            and customer_months.evaluated_on >= purchases.order_date_local
    group by customer_months.customer_id, customer_months.month_start, customer_months.evaluated_on

),

staged as (

    select
        customer_id,
        month_start,
        evaluated_on,
        first_purchase_date_local,
        last_purchase_date_local,
        valid_orders_to_date,
        valid_orders_in_month,
        {{ dbt.datediff('last_purchase_date_local', 'evaluated_on', 'day') }}
            as days_since_last_purchase,
        case
            when last_purchase_date_local is null then 'prospect'
            when first_purchase_date_local >= month_start then 'new'
            when
                {{ dbt.datediff('last_purchase_date_local', 'evaluated_on', 'day') }}
                >= {{ var('churned_after_days') }}
                then 'churned'
            when
                {{ dbt.datediff('last_purchase_date_local', 'evaluated_on', 'day') }}
                >= {{ var('dormant_after_days') }}
                then 'dormant'
            else 'active'
        end as lifecycle_stage
    from purchases_to_date

),

with_previous as (

    select
        *,
        lag(lifecycle_stage) over (
            partition by customer_id order by month_start
        ) as previous_lifecycle_stage
    from staged

)

select
    {{ dbt.concat(['customer_id', "'|'", 'cast(month_start as ' ~ dbt.type_string() ~ ')']) }}
        as customer_month_key,
    customer_id,
    month_start,
    evaluated_on,
    lifecycle_stage,
    previous_lifecycle_stage,
    case
        when previous_lifecycle_stage is null
            then {{ dbt.concat(["'entered_as_'", 'lifecycle_stage']) }}
        when previous_lifecycle_stage = lifecycle_stage
            then {{ dbt.concat(["'stayed_'", 'lifecycle_stage']) }}
        else {{ dbt.concat(['previous_lifecycle_stage', "'_to_'", 'lifecycle_stage']) }}
    end as lifecycle_transition,
    coalesce(
        previous_lifecycle_stage in ('dormant', 'churned') and lifecycle_stage = 'active', false
    ) as is_reactivated,
    first_purchase_date_local,
    last_purchase_date_local,
    days_since_last_purchase,
    valid_orders_to_date,
    valid_orders_in_month
from with_previous
