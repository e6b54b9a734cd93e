{#-
    One union branch per identifier column of a staging model: which identifier (type, raw value)
    was seen on which record, with the record's raw partition (raw_source, export_day).
    `identifiers` maps an identity-type SQL expression to a column. When the model builds
    incrementally, only the records to reprocess are read: those of changed partitions and those
    this model already holds in changed partitions (their surviving copy may sit elsewhere).
-#}
{% macro identity_sightings(model, raw_source, record_source, record_id, observed_at, identifiers) -%}
    {%- for identity_type, column in identifiers.items() %}
    select
        cast('{{ record_source }}' as {{ dbt.type_string() }}) as record_source,
        cast({{ record_id }} as {{ dbt.type_string() }}) as record_id,
        {{ observed_at }} as observed_at_utc,
        cast({{ identity_type }} as {{ dbt.type_string() }}) as identity_type,
        {{ column }} as identity_value_raw,
        cast('{{ raw_source }}' as {{ dbt.type_string() }}) as raw_source,
        export_day
    from {{ ref(model) }}
    where
        {{ column }} is not null
        {%- if is_incremental() %}
        and (
            {{ in_changed_partition("'" ~ raw_source ~ "'", 'export_day') }}
            or cast({{ record_id }} as {{ dbt.type_string() }}) in (
                select record_id from ({{ records_in_changed_partitions(['record_source', 'record_id']) }}) as gone
                where record_source = '{{ record_source }}'
            )
        )
        {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
