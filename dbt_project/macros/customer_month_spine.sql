{#-
    The reporting months of the customer marts, cross-database (no generate_series): the distinct
    local months in which customers touched the brand. Sign-ups are left out because the CRM
    exports its whole member base, whose sign-up dates reach back years before the other exports
    begin. Renders a select of `month_start` (date).
-#}
{% macro customer_month_spine() -%}
    select distinct
        cast({{ dbt.date_trunc('month', 'touch_date_local') }} as date) as month_start
    from {{ ref('int_customers__touch_records') }}
    where touch_kind <> 'sign_up'
{%- endmacro %}
