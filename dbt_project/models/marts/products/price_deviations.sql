{#-
    Price and title deviations for action: one row per SKU, sales channel and unbroken run of
    days on which the channel showed a price or title different from the brand's standard.
-#}
with

channel_prices as (

    select * from {{ ref('fct_channel_prices_daily') }}

),

deviating_days as (

    select
        sku_id,
        channel,
        price_date,
        list_price_cny,
        product_title,
        standard_price_cny,
        standard_title,
        is_price_deviation,
        is_title_deviation,
        {{ dbt.dateadd(
            'day',
            '-1 * row_number() over (partition by sku_id, channel order by price_date)',
            'price_date') }} as run_anchor
    from channel_prices
    where is_deviation

),

latest_in_run as (

    select
        *,
        row_number() over (
            partition by sku_id, channel, run_anchor order by price_date desc
        ) as recency_rank
    from deviating_days

),

runs as (

    select
        sku_id,
        channel,
        run_anchor,
        min(price_date) as first_deviation_date,
        max(price_date) as last_deviation_date,
        count(*) as deviation_days,
        max(case when is_price_deviation then 1 else 0 end) = 1 as has_price_deviation,
        max(case when is_title_deviation then 1 else 0 end) = 1 as has_title_deviation,
        min(list_price_cny) as min_channel_price_cny,
        max(list_price_cny) as max_channel_price_cny
    from deviating_days
    group by sku_id, channel, run_anchor

)

select
    {{ dbt.hash(dbt.concat([
        'runs.sku_id', "':'", 'runs.channel', "':'",
        'cast(runs.first_deviation_date as ' ~ dbt.type_string() ~ ')'])) }} as deviation_key,
    runs.sku_id,
    runs.channel,
    runs.first_deviation_date,
    runs.last_deviation_date,
    runs.deviation_days,
    runs.has_price_deviation,
    runs.has_title_deviation,
    latest_in_run.standard_price_cny,
    latest_in_run.list_price_cny as latest_channel_price_cny,
    runs.min_channel_price_cny,
    runs.max_channel_price_cny,
    latest_in_run.standard_title,
    latest_in_run.product_title as latest_channel_title
from runs
inner join latest_in_run
    on
        runs.sku_id = latest_in_run.sku_id
        and runs.channel = latest_in_run.channel
        and runs.run_anchor = latest_in_run.run_anchor
        and latest_in_run.recency_rank = 1
