-- Each record resolved to one customer: the customer of its strongest identifier.
with

observations as (

    select * from {{ ref('int_identity__observations') }}
    where record_source <> 'store_master'

),

identity_map as (

    select * from {{ source('identity', 'customer_identity_map') }}
    where customer_id is not null

),

identity_types as (

    select * from {{ ref('identity_types') }}

),

candidates as (

    select
        observations.record_source,
        observations.record_id,
        identity_map.customer_id,
        observations.identity_type,
        row_number() over (
            partition by observations.record_source, observations.record_id
            order by identity_types.priority, identity_map.customer_id
        ) as strength_rank
    from observations
    inner join identity_map
        on
            observations.identity_type = identity_map.identity_type
            and observations.identity_value = identity_map.identity_value
    inner join identity_types
        on observations.identity_type = identity_types.identity_type

)

select
    record_source,
    record_id,
    customer_id,
    identity_type as resolved_by_identity_type
from candidates
where strength_rank = 1
