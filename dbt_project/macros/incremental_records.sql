{#-
    Incremental models that reprocess whole records (see models/docs.md, "incremental").

    Every row carries `processed_through_utc`: the latest change (raw partition loaded, replaced
    or erased; identifier re-resolved) that had been recorded when the row was built. A nightly
    run reprocesses only the records touched by changes recorded after the model's own newest
    `processed_through_utc`, and replaces all the rows of each such record: the batch holds the
    record's current rows plus its old rows marked `_is_tombstone`, so a record that vanished
    (erased, or its file replaced) is deleted too. `dbt build --full-refresh` rebuilds from scratch.
-#}

{#-
    Incremental on DuckDB; a plain table elsewhere. dbt-spark's incremental materialization
    accepts only its built-in strategies, and deleting a record's rows needs Delta or Iceberg
    tables; until a Spark deployment adds a spark__ version of the strategy, Spark rebuilds.
-#}
{% macro records_materialization() -%}
    {{- return('incremental' if target.type == 'duckdb' else 'table') -}}
{%- endmacro %}

{#-
    Custom strategy: delete every row of the batch's records, insert the batch's live rows.
    A model configured with `log_replaced_rows` (the SQL of a row key) first appends each row it
    deletes to audit.replaced_rows, with its customer (null for a model without customer_id, as
    staging) and the batch's processed_through_utc: the
    models built from it read there whose rows a night replaced or deleted
    (replaced_rows_since_watermark), where they would otherwise compare their whole input with
    what they hold. Its entries older than var('replaced_rows_retention_days') go, leaving a
    marker (row_key '*') with the newest stamp gone: the log is incomplete up to it.
-#}
{% macro get_incremental_replace_records_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- set columns = arg_dict['dest_columns'] | map(attribute='quoted') | join(', ') -%}
    {%- set in_batch -%}
    exists (
        select 1 from {{ batch }} as batch
        where
            {%- for key in keys %}
            batch.{{ key }} = {{ target }}.{{ key }}{% if not loop.last %} and{% endif %}
            {%- endfor %}
    )
    {%- endset -%}
    {%- set logged_key = config.get('log_replaced_rows') -%}
    {%- if logged_key %}
    {%- set has_customer = 'customer_id' in arg_dict['dest_columns'] | map(attribute='name') %}
    {%- set log = source('audit', 'replaced_rows') %}
    {%- set this_model = "model_name = '" ~ target.identifier ~ "'" %}
    {%- set expired = 'replaced_through_utc < ' ~ dbt.dateadd('day',
        -var('replaced_rows_retention_days'),
        '(select max(processed_through_utc) from ' ~ batch ~ ')') %}
    insert into {{ log }} (model_name, row_key, customer_id, replaced_through_utc)
    select
        '{{ target.identifier }}',
        {{ logged_key }},
        {{ 'customer_id' if has_customer else 'null' }},
        (select max(processed_through_utc) from {{ batch }})
    from {{ target }}
    where {{ in_batch }};
    insert into {{ log }} (model_name, row_key, customer_id, replaced_through_utc)
    select '{{ target.identifier }}', '*', null, max(replaced_through_utc)
    from {{ log }}
    where {{ this_model }} and {{ expired }}
    having count(*) > 0;
    delete from {{ log }}
    where
        {{ this_model }}
        and {{ expired }}
        and not (
            row_key = '*'
            and replaced_through_utc = (
                select max(replaced_through_utc) from {{ log }}
                where {{ this_model }} and row_key = '*'
            )
        );
    {%- endif %}
    delete from {{ target }}
    where {{ in_batch }};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ batch }} where not _is_tombstone
{%- endmacro %}

{#-
    Pre-hook of every model (dbt_project.yml), acting for those configured with
    `log_replaced_rows`: a build that is not incremental (first build, --full-refresh) deletes
    nothing through the strategy, so it logs nothing; it leaves a marker (row_key '*') stamped
    with the changes it applies: the log is incomplete up to it, and a model reading it that was
    built before stops instead of missing deletions. A staging model is built before the
    identity step has ever written its changes: the stamp then counts the raw changes only.
-#}
{% macro mark_replaced_rows_incomplete_on_full_build() -%}
    {%- if config.get('log_replaced_rows') and not is_incremental() and target.type == 'duckdb' %}
    {%- set with_identity = execute
        and load_relation(source('identity', 'identifier_changes')) is not none %}
    insert into {{ source('audit', 'replaced_rows') }}
        (model_name, row_key, customer_id, replaced_through_utc)
    select '{{ this.identifier }}', '*', null, {{ changes_through(with_identity) }}
    {%- endif %}
{%- endmacro %}

{#- on-run-start: the log of replaced rows (DuckDB only: elsewhere the models are tables). -#}
{% macro create_replaced_rows_log() -%}
    {%- if target.type == 'duckdb' %}
    create schema if not exists audit;
    create table if not exists audit.replaced_rows (
        model_name varchar not null,
        row_key varchar not null,  -- '*': a marker, the log is incomplete up to its stamp
        customer_id varchar,
        replaced_through_utc timestamp not null  -- processed_through_utc of the deleting batch
    )
    {%- else %}
    select 1 as nothing_to_create
    {%- endif %}
{%- endmacro %}

{#- The newest change this model has applied; everything recorded later is still to do. -#}
{% macro incremental_watermark() -%}
    (
        select coalesce(max(processed_through_utc), cast('1970-01-01' as timestamp))
        from {{ this }}
    )
{%- endmacro %}

{#- The value of processed_through_utc for rows built now. -#}
{% macro changes_through(with_identity=false) -%}
    (
        select coalesce(max(changed_at), cast('1970-01-01' as timestamp))
        from (
            select changed_at from {{ source('audit', 'partition_changes') }}
            {%- if with_identity %}
            union all
            select changed_at from {{ source('identity', 'identifier_changes') }}
            {%- endif %}
        ) as changes
    )
{%- endmacro %}

{#- True when the row's raw partition (raw_source, export_day) changed after the watermark. -#}
{% macro in_changed_partition(raw_source, export_day) -%}
    exists (
        select 1 from {{ source('audit', 'partition_changes') }} as changes
        where
            changes.changed_at > {{ incremental_watermark() }}
            and changes.source = {{ raw_source }}
            and changes.partition_day = {{ export_day }}
    )
{%- endmacro %}

{#-
    The raw rows a staging model that deduplicates copies of a record reads. When incremental,
    every copy of each record with a copy in a changed partition of `raw_source`, or whose row
    here matches `held_rows_changed` (by default: came from a changed partition), since the copy
    that wins may sit in an unchanged partition. `keys` maps the model's record key columns to
    the raw expressions they are staged from.
-#}
{% macro raw_copies_to_restage(raw_source, keys, held_rows_changed=none) -%}
    {%- set raw_name = "'" ~ raw_source ~ "'" %}
    select * from {{ source('raw', raw_source) }}
    {%- if is_incremental() %}
    where ({{ keys.values() | join(', ') }}) in (
        select {{ keys.values() | join(', ') }}
        from {{ source('raw', raw_source) }} as changed_rows
        where {{ in_changed_partition(raw_name, 'changed_rows._partition_day') }}
        union
        select {{ keys.keys() | join(', ') }}
        from {{ this }} as this_rows
        where {{ held_rows_changed or in_changed_partition(raw_name, 'this_rows.export_day') }}
    )
    {%- endif %}
{%- endmacro %}

{#-
    True when a partition of `raw_source` between the two days (inclusive) changed after the
    watermark: for a record built from copies in several partitions, any of which may vanish.
-#}
{% macro changed_partition_between(raw_source, first_day, last_day) -%}
    exists (
        select 1 from {{ source('audit', 'partition_changes') }} as changes
        where
            changes.changed_at > {{ incremental_watermark() }}
            and changes.source = {{ raw_source }}
            and changes.partition_day between {{ first_day }} and {{ last_day }}
    )
{%- endmacro %}

{#- Records of this model whose partition changed: their old rows are replaced or deleted. -#}
{% macro records_in_changed_partitions(key_columns) -%}
    select {{ key_columns | join(', ') }}
    from {{ this }} as this_rows
    where {{ in_changed_partition('this_rows.raw_source', 'this_rows.export_day') }}
{%- endmacro %}

{#- Records observing an identifier whose customer changed after the watermark. -#}
{% macro records_with_changed_identifiers() -%}
    select distinct observations.record_source, observations.record_id
    from {{ ref('int_identity__observations') }} as observations
    inner join {{ source('identity', 'identifier_changes') }} as changes
        on
            observations.identity_type = changes.identity_type
            and observations.identity_value = changes.identity_value
    where changes.changed_at > {{ incremental_watermark() }}
{%- endmacro %}

{#-
    Customers who lost an identifier after the watermark (its records deleted, or the customer
    withheld on an erasure request): this model's rows of theirs are re-resolved.
-#}
{% macro customers_with_removed_identifiers() -%}
    select changes.previous_customer_id
    from {{ source('identity', 'identifier_changes') }} as changes
    where
        changes.previous_customer_id is not null
        and changes.changed_at > {{ incremental_watermark() }}
{%- endmacro %}

{#-
    The records of this model to reprocess for a reason other than their staging rows' own
    partition: re-resolved by int_identity__record_customers after the watermark, or held by
    this model from a changed partition (their surviving copy may sit in another) or for a
    customer who lost an identifier. int_identity__record_customers, built first, re-resolves
    every record observing an identifier whose customer changed, so those need no lookup among
    the observations here (it found no other record in a 1M-customer night, and cost 2-4 s in
    each of the two models). `raw_source` is the SQL of a held row's raw source. A model
    builds this once, as a CTE its touch_ids_to_reprocess calls share: each call reading its
    own table again cost more than the records it spared.
-#}
{% macro records_to_reprocess(raw_source) -%}
    select record_source, record_id from {{ ref('int_identity__record_customers') }}
    where processed_through_utc > {{ incremental_watermark() }}
    union
    select this_rows.record_source, this_rows.record_id from {{ this }} as this_rows
    where
        {{ in_changed_partition(raw_source, 'this_rows.export_day') }}
        or this_rows.customer_id in ({{ customers_with_removed_identifiers() }})
{%- endmacro %}

{#-
    Ids of the records of one staging model to reprocess: those in its changed partitions, and
    those of `reprocessed_records` (the model's records_to_reprocess CTE) from it. Built as a
    small set and joined, so the staging rows are scanned once, not once per condition.
-#}
{% macro touch_ids_to_reprocess(staging_relation, raw_source, record_source, record_id, reprocessed_records) -%}
    with changed_partitions as (
        select distinct partition_day
        from {{ source('audit', 'partition_changes') }}
        where source = '{{ raw_source }}' and changed_at > {{ incremental_watermark() }}
    )
    select staged.{{ record_id }} as record_id
    from {{ staging_relation }} as staged
    inner join changed_partitions on staged.export_day = changed_partitions.partition_day
    union
    select record_id from {{ reprocessed_records }}
    where record_source = '{{ record_source }}'
{%- endmacro %}

{#-
    A table built by a version in which this model was not incremental (or lacked a column the
    incremental run reads, `columns`) cannot be continued: say so instead of failing to bind. In
    a unit test `this` is the name of a fixture, not a table of the warehouse: nothing to check.
-#}
{% macro require_record_bookkeeping(columns=['processed_through_utc']) -%}
    {%- if is_incremental() and execute and this is not string %}
        {%- set held = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
        {%- set missing = columns | reject('in', held) | list %}
        {%- if missing %}
            {{- exceptions.raise_compiler_error(
                this ~ ' was built without ' ~ missing | join(', ') ~ ', by a version in which'
                ~ ' it was not incremental or did not keep it: rebuild it once with'
                ~ ' --full-refresh (python -m orchestration.run_pipeline --full-refresh, or'
                ~ ' full_refresh: true in the Launchpad config of the dbt steps)'
            ) }}
        {%- endif %}
    {%- endif %}
{%- endmacro %}

{#-
    The model's final select: `current_rows` (already narrowed to the records to reprocess when
    incremental) stamped with processed_through_utc, and, when incremental, one tombstone per
    record of the old rows of `tombstone_condition`, to be deleted. A tombstone carries only the
    record's key and the batch's stamp (the other columns null): the strategy deletes by key, and copying every old
    row whole cost as much as building the batch (about 2M journey touch rows a night at 1M
    customers, for some 300,000 keys). `held_rows` names a CTE of this model's rows that holds
    every record to delete, for a model that has read them already: a second scan of a big
    table costs seconds.
-#}
{% macro replace_records_batch(current_rows, tombstone_condition, record_key, with_identity=false, held_rows=none) -%}
    {{- require_record_bookkeeping() }}
    select
        {{ current_rows }}.*,
        {{ changes_through(with_identity) }} as processed_through_utc
        {%- if is_incremental() %},
        false as _is_tombstone
        {%- endif %}
    from {{ current_rows }}
    {%- if is_incremental() %}
    {%- set keys = [record_key] if record_key is string else record_key %}
    -- the incremental branch runs on DuckDB only (records_materialization): by name, the
    -- columns a tombstone lacks are null
    union all by name
    select distinct
        {%- for key in keys %}
        this_rows.{{ key }},
        {%- endfor %}
        {{ changes_through(with_identity) }} as processed_through_utc,
        true as _is_tombstone
    from {{ held_rows or this }} as this_rows
    where {{ tombstone_condition }}
    {%- endif %}
{%- endmacro %}

{#-
    True for the rows of an incremental model built since the latest publication. A night's data
    tests check these only: the older rows passed the same tests before they were published and a
    batch replaces a record's rows whole, so only new rows can break a rule. A build that failed
    its tests is not published, so its rows are checked again the next night. A first build
    checks every row (nothing published yet), and so does an invocation with --full-refresh: its
    rows carry the stamp of the newest change, which may be older than the latest publication.
    The table is named, not read through source(): a data test reading a source becomes a Dagster
    asset check depending on that source's asset, and this one is written by the publish step,
    downstream of every check.
-#}
{% macro built_since_last_publication() -%}
    {%- if flags.FULL_REFRESH %}
    true
    {%- else %}
    processed_through_utc > (
        select coalesce(max(published_at), cast('1970-01-01' as timestamp))
        from audit.publications
    )
    {%- endif %}
{%- endmacro %}

{#-
    The rows of `model_name` (an incremental model configured with `log_replaced_rows`) that it
    replaced or deleted after this model's watermark: row_key and the customer they belonged to.
    A model reading it must be built after `model_name` (ref it).
-#}
{% macro replaced_rows_since_watermark(model_name) -%}
    {{- require_replaced_rows_complete(model_name) -}}
    select row_key, customer_id
    from {{ source('audit', 'replaced_rows') }}
    where
        model_name = '{{ model_name }}'
        and replaced_through_utc > {{ incremental_watermark() }}
{%- endmacro %}

{#-
    The keys of the rows `model_name` (an incremental model configured with `log_replaced_rows`)
    built, replaced or deleted after this model's watermark, as `row_key`: `key` is the SQL of
    the key it logs (log_replaced_rows). The rows stamped later, and those it logged.
-#}
{% macro keys_rebuilt_since_watermark(model_name, key) -%}
    select {{ key }} as row_key from {{ ref(model_name) }}
    where processed_through_utc > {{ incremental_watermark() }}
    union
    select replaced.row_key from ({{ replaced_rows_since_watermark(model_name) }}) as replaced
{%- endmacro %}

{#-
    Stop when the log of `model_name` is incomplete after this model's watermark (a marker newer
    than it: `model_name` was rebuilt in full, or entries this model had yet to read expired):
    this model may hold rows that should be gone. A table that holds nothing has nothing to lose.
-#}
{% macro require_replaced_rows_complete(model_name) -%}
    {%- if is_incremental() and execute and this is not string %}
        {%- set gaps = run_query(
            "select max(replaced_through_utc) from " ~ source('audit', 'replaced_rows')
            ~ " where model_name = '" ~ model_name ~ "' and row_key = '*'"
            ~ " and replaced_through_utc > (select max(processed_through_utc) from " ~ this ~ ")"
            ~ " having count(*) > 0"
        ) %}
        {%- if gaps.rows | length > 0 %}
            {{- exceptions.raise_compiler_error(
                'audit.replaced_rows lacks rows ' ~ model_name ~ ' deleted after ' ~ this
                ~ ' was last built (' ~ model_name ~ ' was rebuilt in full, or the log kept them'
                ~ ' ' ~ var('replaced_rows_retention_days') ~ ' days, replaced_rows_retention_days):'
                ~ ' rebuild ' ~ this.identifier ~ ' and the models built from it with'
                ~ ' --full-refresh (dbt build --full-refresh --select ' ~ this.identifier ~ '+)'
            ) }}
        {%- endif %}
    {%- endif %}
{%- endmacro %}
