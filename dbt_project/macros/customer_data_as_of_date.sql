{#-
    The data's last day: the latest local day of any customer touch (purchase, visit, content
    touch, sign-up). Recency, lifecycle stages and time-windowed tags are measured as of this
    day, so that a replayed or historical world is judged by its own calendar, not today's.
    Renders a scalar subquery.
-#}
{% macro customer_data_as_of_date() -%}
    (select max(touch_date_local) from {{ ref('int_customers__touch_records') }})
{%- endmacro %}
