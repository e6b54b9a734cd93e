{#-
    Brand information consistency (品牌信息传递一致性) per month: the mean of the daily
    consistency shares of brand_consistency_daily (each day weighs the same, however many SKUs
    were active that day).
-#}
with

daily as (

    select * from {{ ref('brand_consistency_daily') }}

)

select
    cast({{ dbt.date_trunc('month', 'price_date') }} as date) as month_start,
    count(consistency_rate) as days_with_rate,
    avg(consistency_rate) as consistency_rate,
    min(consistency_rate) as min_daily_consistency_rate,
    sum(case when meets_target then 1 else 0 end) as days_meeting_target
from daily
group by cast({{ dbt.date_trunc('month', 'price_date') }} as date)
