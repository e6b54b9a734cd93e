{#-
    Customer to identity mapping for analysts: one row per canonical identifier of the identity
    graph, keyed-hashed (identity_hash, HMAC with the warehouse's key); the raw value stays in the
    restricted identity schema.
-#}
with

identity_map as (

    select * from {{ source('identity', 'customer_identity_map') }}

),

identifiers as (

    select * from {{ ref('int_identity__identifiers') }}

)

select
    identity_map.identity_hash,
    identity_map.customer_id,
    identity_map.identity_type,
    identity_map.status as resolution_status,
    coalesce(identifiers.n_records, 0) as n_records,
    {{ to_local_time('identifiers.first_seen_at_utc') }} as first_seen_at_local,
    {{ to_local_time('identifiers.last_seen_at_utc') }} as last_seen_at_local,
    {{ to_local_date('identifiers.first_seen_at_utc') }} as first_seen_date_local
from identity_map
left join identifiers
    on
        identity_map.identity_type = identifiers.identity_type
        and identity_map.identity_value = identifiers.identity_value
