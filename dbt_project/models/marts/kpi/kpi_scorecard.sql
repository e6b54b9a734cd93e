{#-
    The plan's KPI scorecard: one row per KPI and month, where the plan stands against each target
    of the domain brief (DOMAIN.md). Every value is selected, unchanged, from the one model that
    defines it (source_model, one CTE each below); the scorecard only adds the baseline, the
    change against it and the target (seed kpi_targets). Definitions in kpi_scorecard.yml.
    Values are not cast (dbt.type_float() is single precision on DuckDB): the union widens them.
-#}
with

kpi_targets as (

    select * from {{ ref('kpi_targets') }}

),

identification as (

    select * from {{ ref('cross_channel_identification_monthly') }}

),

touch_frequency as (

    select * from {{ ref('touch_frequency_monthly') }}
    where channel = 'all'

),

campaign_conversion as (

    select * from {{ ref('int_kpi__campaign_conversion_monthly') }}

),

repurchase as (

    select * from {{ ref('repurchase_rate_monthly') }}

),

marketing_waste as (

    select * from {{ ref('marketing_waste_monthly') }}
    where channel = 'all'

),

brand_consistency as (

    select * from {{ ref('int_kpi__brand_consistency_monthly') }}

),

data_accuracy as (

    select * from {{ ref('int_kpi__data_accuracy_monthly') }}

),

as_of as (

    select {{ customer_data_as_of_date() }} as as_of_date

),

kpi_values as (

    select
        'cross_channel_identification_rate' as kpi,
        'cross_channel_identification_monthly' as source_model,
        cast(month_start as date) as month_start,
        channel_identity_resolution_rate as kpi_value
    from identification

    union all

    select
        'avg_touches_per_customer' as kpi,
        'touch_frequency_monthly' as source_model,
        cast(month_start as date) as month_start,
        avg_touches_per_customer as kpi_value
    from touch_frequency

    union all

    select
        'campaign_conversion_rate' as kpi,
        'int_kpi__campaign_conversion_monthly' as source_model,
        cast(month_start as date) as month_start,
        campaign_conversion_rate as kpi_value
    from campaign_conversion

    union all

    select
        'repurchase_rate' as kpi,
        'repurchase_rate_monthly' as source_model,
        cast(order_month as date) as month_start,
        period_repurchase_rate as kpi_value
    from repurchase

    union all

    select
        'marketing_waste_rate' as kpi,
        'marketing_waste_monthly' as source_model,
        cast(month_start as date) as month_start,
        waste_rate as kpi_value
    from marketing_waste

    union all

    select
        'brand_consistency_rate' as kpi,
        'int_kpi__brand_consistency_monthly' as source_model,
        cast(month_start as date) as month_start,
        consistency_rate as kpi_value
    from brand_consistency

    union all

    select
        'data_accuracy' as kpi,
        'int_kpi__data_accuracy_monthly' as source_model,
        cast(month_start as date) as month_start,
        accuracy as kpi_value
    from data_accuracy

),

-- the baseline: each KPI's first month with a value
numbered_values as (

    select
        kpi,
        month_start,
        kpi_value,
        row_number() over (partition by kpi order by month_start) as value_number
    from kpi_values
    where kpi_value is not null

),

baselines as (

    select
        kpi,
        month_start as baseline_month,
        kpi_value as baseline_value
    from numbered_values
    where value_number = 1

),

compared as (

    select
        kpi_values.kpi,
        kpi_targets.kpi_label,
        kpi_targets.definition,
        kpi_values.source_model,
        kpi_targets.value_unit,
        kpi_values.month_start,
        kpi_values.kpi_value,
        baselines.baseline_month,
        baselines.baseline_value,
        kpi_values.kpi_value / nullif(baselines.baseline_value, 0) - 1 as change_vs_baseline,
        kpi_targets.target_kind,
        kpi_targets.target_value,
        kpi_targets.is_higher_better,
        kpi_targets.target_horizon,
        {{ month_end('kpi_values.month_start') }} <= as_of.as_of_date as is_full_month
    from kpi_values
    cross join as_of
    inner join kpi_targets
        on kpi_values.kpi = kpi_targets.kpi
    left join baselines
        on kpi_values.kpi = baselines.kpi

)

select
    kpi,
    kpi_label,
    definition,
    source_model,
    value_unit,
    month_start,
    is_full_month,
    kpi_value as value,  -- noqa: RF04
    baseline_month,
    baseline_value,
    change_vs_baseline,
    target_kind,
    target_value as target,  -- noqa: RF04
    case
        when target_kind = 'relative_change' then baseline_value * (1 + target_value)
        else target_value
    end as target_level,
    is_higher_better,
    target_horizon,
    case
        when target_kind = 'relative_change' and is_higher_better
            then change_vs_baseline >= target_value
        when target_kind = 'relative_change'
            then change_vs_baseline <= target_value
        when target_kind = 'at_least' then kpi_value >= target_value
        when target_kind = 'at_most' then kpi_value <= target_value
        when target_kind = 'more_than' then kpi_value > target_value
    end as is_on_target
from compared
