{#-
    dbt.listagg on Spark, honouring the order_by_clause: dbt-spark's own spark__listagg ignores it
    (collect_list has no defined order), which would make journey paths (fct_journeys) and channel
    lists (dim_customers) differ run to run. Collects (sort keys, value) structs, sorts them, keeps
    the values. Supports ascending keys: `order by a, b` (nulls first, as Spark sorts them).
-#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause -%}
        {%- set keys = modules.re.sub('(?i)^\\s*order\\s+by\\s+', '', order_by_clause).split(',') -%}
        {%- set fields = [] -%}
        {%- for key in keys -%}
            {%- set key = key | trim -%}
            {%- if modules.re.search('(?i)\\s+desc(\\s|$)', key) -%}
                {{ exceptions.raise_compiler_error("spark__listagg supports ascending order only: " ~ order_by_clause) }}
            {%- endif -%}
            {%- do fields.append("'k" ~ loop.index ~ "', " ~ modules.re.sub('(?i)\\s+asc$', '', key)) -%}
        {%- endfor -%}
        {%- set collected -%}
            transform(
                array_sort(collect_list(named_struct({{ fields | join(', ') }}, 'v', {{ measure }}))),
                x -> x.v
            )
        {%- endset -%}
    {%- else -%}
        {%- set collected = 'collect_list(' ~ measure ~ ')' -%}
    {%- endif -%}
    {%- if limit_num -%}
        {%- set collected = 'slice(' ~ collected ~ ', 1, ' ~ limit_num ~ ')' -%}
    {%- endif -%}
    array_join({{ collected }}, {{ delimiter_text }})
{%- endmacro %}
