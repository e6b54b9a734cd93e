{#-
    Lifecycle stage of every customer in every month from the month it was first seen to the
    data's last month. Stages emerge from valid purchase dates only, judged at the month's end
    (the data's last day for the current month); thresholds are dbt vars. Definitions in
    customer_lifecycle_monthly.yml.

    Incremental by month and customer: a closed month's stage changes only if the customer's
    purchases before it or first-seen month changed. A night rebuilds every customer's rows from
    the month the data ended in at the last build (the cutoff month) on, and all the rows of the
    customers whose valid purchases before the cutoff (count, first and last day of each month,
    first purchase day) or first-seen month now differ from what this table holds, or who
    appeared or vanished (identities merged or split).
-#}
{%- set record_key = 'customer_month_key' %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}
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

{%- if is_incremental() %}

previous_rows as (

    select
        customer_id,
        month_start,
        first_purchase_date_local,
        last_purchase_date_local,
        valid_orders_in_month
    from {{ this }}

),

cutoff as (

    select
        least(
            (select max(previous_rows.month_start) from previous_rows),
            cast({{ dbt.date_trunc('month', 'as_of.as_of_date') }} as date)
        ) as cutoff_month
    from as_of

),

-- the spine month before the cutoff: the rows that give the cutoff month its previous stage
lag_from as (

    select coalesce(max(months.month_start), cutoff.cutoff_month) as lag_from_month
    from cutoff
    left join months on months.month_start < cutoff.cutoff_month
    group by cutoff.cutoff_month

),

purchase_months_now as (

    select
        purchases.customer_id,
        cast({{ dbt.date_trunc('month', 'purchases.order_date_local') }} as date) as month_start,
        count(*) as valid_orders_in_month,
        max(purchases.order_date_local) as last_purchase_date_local
    from purchases
    cross join cutoff
    where purchases.order_date_local < cutoff.cutoff_month
    group by 1, 2

),

purchase_months_before as (

    select
        previous_rows.customer_id,
        previous_rows.month_start,
        previous_rows.valid_orders_in_month,
        previous_rows.last_purchase_date_local
    from previous_rows
    cross join cutoff
    where
        previous_rows.month_start < cutoff.cutoff_month
        and previous_rows.valid_orders_in_month > 0

),

customer_summary_now as (

    select
        customers.customer_id,
        cast({{ dbt.date_trunc('month', 'customers.first_seen_date_local') }} as date)
            as first_month,
        first_purchases.first_purchase_date_local
    from customers
    left join (
        select
            purchases.customer_id,
            min(purchases.order_date_local) as first_purchase_date_local
        from purchases
        cross join cutoff
        where purchases.order_date_local < cutoff.cutoff_month
        group by purchases.customer_id
    ) as first_purchases
        on customers.customer_id = first_purchases.customer_id
    cross join cutoff
    where
        cast({{ dbt.date_trunc('month', 'customers.first_seen_date_local') }} as date)
        < cutoff.cutoff_month

),

customer_summary_before as (

    select
        previous_rows.customer_id,
        min(previous_rows.month_start) as first_month,
        min(previous_rows.first_purchase_date_local) as first_purchase_date_local
    from previous_rows
    cross join cutoff
    where previous_rows.month_start < cutoff.cutoff_month
    group by previous_rows.customer_id

),

customers_to_rebuild as (

    select customer_id from (
        select * from purchase_months_now
        except
        select * from purchase_months_before
    ) as appeared_or_changed

    union

    select customer_id from (
        select * from purchase_months_before
        except
        select * from purchase_months_now
    ) as vanished_or_changed

    union

    select customer_id from (
        select * from customer_summary_now
        except
        select * from customer_summary_before
    ) as customer_appeared_or_changed

    union

    select customer_id from (
        select * from customer_summary_before
        except
        select * from customer_summary_now
    ) as customer_vanished_or_changed

),

{%- endif %}

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
    {%- if is_incremental() %}
    cross join lag_from
    left join customers_to_rebuild
        on customers.customer_id = customers_to_rebuild.customer_id
    where
        customers_to_rebuild.customer_id is not null
        or months.month_start >= lag_from.lag_from_month
    {%- endif %}

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

),

current_rows as (

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
    {%- if is_incremental() %}
    where
        month_start >= (select cutoff_month from cutoff)
        or customer_id in (select customer_id from customers_to_rebuild)
    {%- endif %}

)

{{ replace_records_batch('current_rows',
    'this_rows.month_start >= (select cutoff_month from cutoff)'
    ~ ' or this_rows.customer_id in (select customer_id from customers_to_rebuild)'
    ~ ' or this_rows.customer_id not in (select customer_id from customers)',
    record_key=record_key) }}
