{#-
    Each conversion's revenue split over the touches of its journey by six attribution models:
    first_touch, last_touch, linear, time_decay (half-life var('attribution_half_life_days')),
    position_based (var('attribution_position_ends_share') to the first and to the last touch,
    the rest shared by the middle; 50/50 with two touches) and markov (the conversion's revenue
    split over the channels on its path in proportion to their first-order Markov removal
    effects, predictions.markov_channel_attribution, each channel's part evenly over its
    touches; linear when no channel on the path has an effect).
    Credits are rounded to the cent and the rounding remainder goes to the touch with the
    largest share (the latest on ties), so every model's credits sum exactly to the revenue.
    The share is taken as a decimal (12 places) before it multiplies the revenue: rounding a
    double at a half cent (121.00 × 0.025) differs between engines (DuckDB, Spark); a decimal
    rounds the same everywhere.
    Incremental: every model's credits depend on one customer's journeys only (and markov's on
    the removal effects), so a night rebuilds the credits of the customers whose journey touches
    int_journeys__journey_touches rebuilt or removed; and every markov credit when the removal
    effects in force changed since the credits were built (each markov credit keeps the effect
    it used, markov_removal_effect).
-#}
{%- set record_key = ['customer_id', 'attribution_model'] %}
{{ config(
    materialized=records_materialization(),
    incremental_strategy='replace_records',
    unique_key=record_key,
) }}
{%- set half_life_days = var('attribution_half_life_days') %}
{%- set ends_share = var('attribution_position_ends_share') %}
{%- set models = [
    'first_touch', 'last_touch', 'linear', 'time_decay', 'position_based', 'markov'
] %}
with

converting_touches as {{ inlined() }} (

    select * from {{ ref('int_journeys__journey_touches') }}
    where is_converting

),

markov_channels as (

    select * from {{ source('predictions', 'markov_channel_attribution') }}

),
{%- if is_incremental() %}
{{- require_record_bookkeeping(['processed_through_utc', 'markov_removal_effect']) }}

customers_to_rebuild as (

    {{ customers_with_rebuilt_journey_touches('converting_touches', 'order_key') }}

),

credited_markov_effects as (

    select distinct
        channel,
        markov_removal_effect
    from {{ this }}
    where attribution_model = 'markov'

),

markov_effects_changed as (

    select count(*) > 0 as is_changed
    from credited_markov_effects
    left join markov_channels
        on credited_markov_effects.channel = markov_channels.channel
    where
        credited_markov_effects.markov_removal_effect
        is distinct from coalesce(markov_channels.removal_effect, 0)

),

-- the touches of the customers rebuilt, and every other converting touch only when the markov
-- credits are: the weights below are windows over every touch they are given
journey_touches as (

    select
        converting_touches.*,
        customers_to_rebuild.customer_id is not null as is_rebuilt
    from converting_touches
    left join customers_to_rebuild
        on converting_touches.customer_id = customers_to_rebuild.customer_id
    where
        customers_to_rebuild.customer_id is not null
        or (select is_changed from markov_effects_changed)

),
{%- else %}

journey_touches as (

    select
        converting_touches.*,
        true as is_rebuilt
    from converting_touches

),
{%- endif %}

touch_channel_counts as (

    select
        journey_touches.order_key,
        journey_touches.touchpoint_key,
        count(*) over (
            partition by journey_touches.order_key, journey_touches.channel
        ) as channel_touches_in_journey,
        coalesce(markov_channels.removal_effect, 0) as removal_effect
    from journey_touches
    left join markov_channels
        on journey_touches.channel = markov_channels.channel

),

markov_weights as (

    select
        order_key,
        touchpoint_key,
        removal_effect,
        removal_effect / channel_touches_in_journey as markov_raw_weight,
        sum(removal_effect / channel_touches_in_journey) over (
            partition by order_key
        ) as markov_journey_weight
    from touch_channel_counts

),

weighted as (

    select
        journey_touches.*,
        case when journey_touches.touch_sequence = 1 then 1.0 else 0.0 end as first_touch_weight,
        case
            when journey_touches.touch_sequence = journey_touches.journey_touch_count then 1.0
            else 0.0
        end as last_touch_weight,
        1.0 as linear_weight,
        power(
            2.0, -1.0 * journey_touches.days_before_conversion / {{ half_life_days }}
        ) as time_decay_weight,
        case
            when journey_touches.journey_touch_count <= 2 then 1.0
            when
                journey_touches.touch_sequence = 1
                or journey_touches.touch_sequence = journey_touches.journey_touch_count
                then {{ ends_share }}
            else (1.0 - 2 * {{ ends_share }}) / (journey_touches.journey_touch_count - 2)
        end as position_based_weight,
        case
            when markov_weights.markov_journey_weight > 0 then markov_weights.markov_raw_weight
            else 1.0
        end as markov_weight,
        markov_weights.removal_effect as markov_removal_effect
    from journey_touches
    inner join markov_weights
        on
            journey_touches.order_key = markov_weights.order_key
            and journey_touches.touchpoint_key = markov_weights.touchpoint_key

),

unpivoted as (

    {% for model in models %}
    select
        order_key,
        touchpoint_key,
        '{{ model }}' as attribution_model,
        {{ model }}_weight as weight
    from weighted
    {%- if model != 'markov' %}
    where is_rebuilt
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

shares as (

    select
        order_key,
        touchpoint_key,
        attribution_model,
        weight / sum(weight) over (partition by order_key, attribution_model) as credit_share
    from unpivoted

),

rounded as (

    select
        shares.order_key,
        shares.touchpoint_key,
        shares.attribution_model,
        shares.credit_share,
        weighted.revenue_cny,
        cast(
            round(
                cast(weighted.revenue_cny as decimal(18, 2))
                * cast(shares.credit_share as decimal(19, 12)),
                2
            )
            as decimal(18, 2)
        ) as rounded_credit_cny,
        row_number() over (
            partition by shares.order_key, shares.attribution_model
            order by
                cast(shares.credit_share as decimal(19, 12)) desc,
                weighted.touch_sequence desc
        ) as remainder_rank
    from shares
    inner join weighted
        on
            shares.order_key = weighted.order_key
            and shares.touchpoint_key = weighted.touchpoint_key

),

credited as (

    select
        order_key,
        touchpoint_key,
        attribution_model,
        credit_share,
        rounded_credit_cny
        + case
            when remainder_rank = 1
                then
                    cast(revenue_cny as decimal(18, 2))
                    - sum(rounded_credit_cny) over (
                        partition by order_key, attribution_model
                    )
            else 0
        end as credited_revenue_cny
    from rounded

),

credit_rows as (

    select
        {{ dbt.hash(dbt.concat([
            'credited.order_key', "':'", 'credited.touchpoint_key', "':'",
            'credited.attribution_model'
        ])) }} as credit_key,
        credited.order_key,
        weighted.customer_id,
        credited.touchpoint_key,
        credited.attribution_model,
        weighted.touch_sequence,
        weighted.journey_touch_count,
        weighted.is_direct,
        weighted.channel,
        weighted.touchpoint_type,
        weighted.campaign_id,
        weighted.touched_at_local,
        weighted.touch_date_local,
        weighted.days_before_conversion,
        weighted.converted_at_local,
        weighted.conversion_date_local,
        weighted.conversion_month,
        weighted.is_first_purchase,
        cast(weighted.revenue_cny as decimal(18, 2)) as revenue_cny,
        credited.credit_share,
        cast(credited.credited_revenue_cny as decimal(18, 2)) as credited_revenue_cny,
        case
            when credited.attribution_model = 'markov' then weighted.markov_removal_effect
        end as markov_removal_effect
    from credited
    inner join weighted
        on
            credited.order_key = weighted.order_key
            and credited.touchpoint_key = weighted.touchpoint_key

)

{{ replace_records_batch('credit_rows',
    "this_rows.customer_id in (select customer_id from customers_to_rebuild)"
    ~ " or (this_rows.attribution_model = 'markov'"
    ~ " and (select is_changed from markov_effects_changed))",
    with_identity=true,
    record_key=record_key) }}
