-- Pairs of identifiers seen together on one record: the edges of the identity graph.
with

observations as (

    select distinct
        record_source,
        record_id,
        identity_type,
        identity_value
    from {{ ref('int_identity__observations') }}
    where record_source <> 'store_master'

),

pairs as (

    select
        a.record_source,
        a.record_id,
        a.identity_type as type_a,
        a.identity_value as value_a,
        b.identity_type as type_b,
        b.identity_value as value_b
    from observations as a
    inner join observations as b
        on
            a.record_source = b.record_source
            and a.record_id = b.record_id
            and (
                a.identity_type < b.identity_type
                or (a.identity_type = b.identity_type and a.identity_value < b.identity_value)
            )

)

select
    type_a,
    value_a,
    type_b,
    value_b,
    count(*) as n_records
from pairs
group by type_a, value_a, type_b, value_b
