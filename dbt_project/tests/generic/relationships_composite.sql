{#-
    Every non-null combination of `column_names` in the model exists as `field_names` in `to`:
    a relationships test for a composite key such as (platform, order_id).
-#}
{% test relationships_composite(model, column_names, to, field_names) %}

with child as (

    select distinct
        {%- for column in column_names %}
        {{ column }} as key_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
    where
        {%- for column in column_names %}
        {{ 'and ' if not loop.first }}{{ column }} is not null
        {%- endfor %}

),

parent as (

    select distinct
        {%- for field in field_names %}
        {{ field }} as key_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ to }}

)

select child.*
from child
left join parent
    on
    {%- for column in column_names %}
    {{ 'and ' if not loop.first }}child.key_{{ loop.index }} = parent.key_{{ loop.index }}
    {%- endfor %}
where parent.key_1 is null

{% endtest %}
