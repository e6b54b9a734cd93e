-- Data accuracy per source and export day: the share of rows passing every row-level rule.
with

load_log as (

    select * from {{ source('audit', 'load_log') }}
    where is_current

),

per_source_day as (

    select
        source,
        partition_day as export_day,
        sum(rows_read) as rows_read,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined,
        sum(rows_rejected) as rows_rejected
    from load_log
    group by source, partition_day

)

select
    source,
    export_day,
    rows_read,
    rows_loaded,
    rows_quarantined,
    rows_rejected,
    case
        when rows_loaded + rows_quarantined > 0
            then cast(rows_loaded as double) / (rows_loaded + rows_quarantined)
    end as accuracy,
    {{ var('accuracy_target') }} as accuracy_target
from per_source_day
