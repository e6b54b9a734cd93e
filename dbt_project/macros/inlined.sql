{#-
    Written between a CTE's name and `as (` when the CTE is read more than once: DuckDB would
    otherwise buffer all its rows and columns before any reader runs (the 19M touchpoints read
    by the journey touches cost 7 of that model's 34 CPU-seconds on a night at 1M customers);
    inlined, each reader scans only the columns and rows it needs. Spark inlines CTEs anyway.
-#}
{% macro inlined() -%}
    {%- if target.type == 'duckdb' %}not materialized{% endif -%}
{%- endmacro %}
