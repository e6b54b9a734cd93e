-- One row per canonical identifier with how many records saw it and when.
select
    identity_type,
    identity_value,
    count(*) as n_records,
    min(first_seen_at_utc) as first_seen_at_utc,
    max(last_seen_at_utc) as last_seen_at_utc
from {{ ref('int_identity__record_identifiers') }}
group by identity_type, identity_value
