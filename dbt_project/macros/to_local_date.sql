{#- The Asia/Shanghai calendar day of a UTC timestamp: the day the business reports it on. -#}
{% macro to_local_date(utc_column) -%}
    cast({{ to_local_time(utc_column) }} as date)
{%- endmacro %}
