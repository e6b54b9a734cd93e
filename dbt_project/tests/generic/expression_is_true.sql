{#-
    Every row satisfies `expression` (a SQL boolean over the model's columns). Used on a column,
    the column is prefixed: `column_name: net_amount_cny`, `expression: ">= 0"`.
    Rows where the expression is NULL pass (use not_null for that).
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ column_name ~ ' ' if column_name else '' }}{{ expression }})

{% endtest %}
