{#-
    The most common journey paths, converting and non-converting, per path transform: `full`
    (every touch), `deduplicated` (consecutive repeats of a channel removed) and
    `first_touch_per_channel`. Conversion rate = converting journeys / all journeys of the path.
-#}
{%- set transforms = ['full', 'deduplicated', 'first_touch_per_channel'] %}
with

journeys as (

    select * from {{ ref('fct_journeys') }}

),

unpivoted as (

    {% for transform in transforms %}
    select
        '{{ transform }}' as path_transform,
        path_{{ transform }} as channel_path,
        is_direct,
        is_converting,
        revenue_cny,
        touch_count,
        days_to_convert
    from journeys
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

paths as (

    select
        path_transform,
        channel_path,
        is_direct,
        count(*) as journeys,
        sum(case when is_converting then 1 else 0 end) as converting_journeys,
        sum(case when is_converting then 0 else 1 end) as non_converting_journeys,
        sum(revenue_cny) as revenue_cny,
        avg(touch_count) as avg_touches,
        avg(days_to_convert) as avg_days_to_convert
    from unpivoted
    group by path_transform, channel_path, is_direct

)

select
    path_transform,
    channel_path,
    is_direct,
    {{ dbt.length(dbt.replace('channel_path', "' > '", "'>'")) }}
    - {{ dbt.length(dbt.replace('channel_path', "' > '", "''")) }} + 1 as path_length,
    journeys,
    converting_journeys,
    non_converting_journeys,
    cast(converting_journeys as {{ dbt.type_float() }}) / journeys as conversion_rate,
    revenue_cny,
    avg_touches,
    avg_days_to_convert,
    row_number() over (
        partition by path_transform order by journeys desc, channel_path asc, is_direct asc
    ) as path_rank
from paths
