{#-
    For every group of `group_by` columns, the sum of `sum_column` equals `total_column` (the
    same on every row of the group) exactly, or within `tolerance` when given: e.g. attribution credits per conversion and model
    add up to the conversion's revenue. Returns the groups that do not. `new_rows_only`: on an
    incremental model whose batch replaces whole groups, check only the groups of the rows built
    since the latest publication (built_since_last_publication).
-#}
{% test sums_match_total(
    model, group_by, sum_column, total_column, tolerance=none, new_rows_only=false
) %}

with groups as (

    select
        {{ group_by | join(',\n        ') }},
        sum({{ sum_column }}) as summed,
        min({{ total_column }}) as total,
        max({{ total_column }}) as total_max
    from {{ model }}
    {%- if new_rows_only %}
    where {{ built_since_last_publication() }}
    {%- endif %}
    group by {{ group_by | join(', ') }}

)

select *
from groups
where
    total <> total_max
    {%- if tolerance is none %}
    or summed <> total
    {%- else %}
    or abs(summed - total) > {{ tolerance }}
    {%- endif %}

{% endtest %}
