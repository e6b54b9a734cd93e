{#-
    Rank the copies of one record, newest first, for deduplication across exports.

    The same record can arrive in several files or export days (late arrivals, re-exports).
    Copies are ordered by `order_by` (business columns, e.g. updated_at_utc) and then by the
    lineage of the copy: loaded last, latest export day, last file name, last line. Keep the row
    ranked 1. Expects the renamed lineage columns of a staging model
    (loaded_at_utc, export_day, source_file, source_line).
-#}
{% macro latest_record_first(partition_by, order_by=[]) -%}
    row_number() over (
        partition by {{ partition_by | join(', ') }}
        order by
            {%- for column in order_by %} {{ column }} desc,{% endfor %}
            loaded_at_utc desc,
            export_day desc,
            source_file desc,
            source_line desc
    )
{%- endmacro %}
