{#- Raw timestamps are UTC; analysts read Asia/Shanghai local time (no daylight saving). -#}
{% macro to_local_time(utc_column) -%}
    {{ dbt.dateadd('hour', var('local_timezone_offset_hours'), utc_column) }}
{%- endmacro %}
