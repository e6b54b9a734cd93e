{#-
    One union branch per identifier column of a staging model: which identifier (type, raw value)
    was seen on which record. `identifiers` maps an identity-type SQL expression to a column.
-#}
{% macro identity_sightings(model, record_source, record_id, observed_at, identifiers) -%}
    {%- for identity_type, column in identifiers.items() %}
    select
        cast('{{ record_source }}' as {{ dbt.type_string() }}) as record_source,
        cast({{ record_id }} as {{ dbt.type_string() }}) as record_id,
        {{ observed_at }} as observed_at_utc,
        cast({{ identity_type }} as {{ dbt.type_string() }}) as identity_type,
        {{ column }} as identity_value_raw
    from {{ ref(model) }}
    where {{ column }} is not null
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
