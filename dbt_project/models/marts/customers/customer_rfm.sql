{#-
    Recency, frequency and monetary value of every customer with a valid purchase, as of the
    data's last day, and their 1-5 quintile scores (5 = best: most recent, most frequent, highest
    spend). Definitions in customer_rfm.yml.
-#}
with

customers as (

    select * from {{ ref('int_customers__features') }}
    where valid_order_count > 0

),

measures as (

    select
        customer_id,
        as_of_date,
        last_purchase_date_local,
        days_since_last_purchase as recency_days,
        valid_order_count as frequency,
        lifetime_net_revenue_cny as monetary_cny
    from customers

),

scored as (

    select
        *,
        ntile(5) over (
            order by recency_days desc, frequency asc, monetary_cny asc, customer_id asc
        ) as recency_score,
        ntile(5) over (
            order by frequency asc, monetary_cny asc, recency_days desc, customer_id asc
        ) as frequency_score,
        ntile(5) over (
            order by monetary_cny asc, frequency asc, recency_days desc, customer_id asc
        ) as monetary_score
    from measures

)

select
    customer_id,
    as_of_date,
    last_purchase_date_local,
    recency_days,
    frequency,
    monetary_cny,
    recency_score,
    frequency_score,
    monetary_score,
    {{ dbt.concat([
        'cast(recency_score as ' ~ dbt.type_string() ~ ')',
        'cast(frequency_score as ' ~ dbt.type_string() ~ ')',
        'cast(monetary_score as ' ~ dbt.type_string() ~ ')']) }} as rfm_cell
from scored
