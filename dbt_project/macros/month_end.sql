{#- The last day of the month that starts on `month_start` (a date truncated to the month). -#}
{% macro month_end(month_start) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month_start)) }} as date)
{%- endmacro %}
