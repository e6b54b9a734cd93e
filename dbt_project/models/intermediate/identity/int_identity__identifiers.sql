-- One row per canonical identifier with how often and when it was seen.
with

observations as (

    select * from {{ ref('int_identity__observations') }}
    where record_source <> 'store_master'

)

select
    identity_type,
    identity_value,
    count(distinct record_id) as n_records,
    min(observed_at_utc) as first_seen_at_utc,
    max(observed_at_utc) as last_seen_at_utc
from observations
group by identity_type, identity_value
