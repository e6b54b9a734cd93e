-- Pairs of identifiers seen together on one record: the edges of the identity graph.
select
    type_a,
    value_a,
    type_b,
    value_b,
    count(*) as n_records
from {{ ref('int_identity__record_pairs') }}
group by type_a, value_a, type_b, value_b
