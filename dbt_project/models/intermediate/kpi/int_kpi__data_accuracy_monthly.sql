{#-
    Data accuracy (数据准确率) per local month of export day: the rows of data_accuracy_daily
    pooled over every source and export day of the month, with the daily model's definition
    (rows passing every row-level rule / rows loaded or quarantined; rejected files excluded).
-#}
with

daily as (

    select * from {{ ref('data_accuracy_daily') }}

),

monthly as (

    select
        cast({{ dbt.date_trunc('month', 'export_day') }} as date) as month_start,
        count(distinct export_day) as export_days,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined,
        sum(rows_rejected) as rows_rejected
    from daily
    group by cast({{ dbt.date_trunc('month', 'export_day') }} as date)

)

select
    month_start,
    export_days,
    rows_loaded,
    rows_quarantined,
    rows_rejected,
    case
        when rows_loaded + rows_quarantined > 0
            then cast(rows_loaded as double) / (rows_loaded + rows_quarantined)
    end as accuracy
from monthly
