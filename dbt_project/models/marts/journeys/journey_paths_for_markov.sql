{#-
    Input of the Markov attribution asset (orchestration/journeys/assets.py): one row per
    distinct full path (channels in touch order, ' > ' between them; repeats kept as self-loops)
    with its converting and non-converting journey counts and the revenue of its conversions.
-#}
with

journeys as (

    select * from {{ ref('fct_journeys') }}

)

select
    path_full as channel_path,
    sum(case when is_converting then 1 else 0 end) as conversions,
    sum(case when is_converting then 0 else 1 end) as non_conversions,
    sum(revenue_cny) as revenue_cny
from journeys
group by path_full
