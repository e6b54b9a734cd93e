-- Canonical identifiers per record; raw values that identify nobody (masked, invalid) drop out.
with

sightings as (

    select * from {{ ref('int_identity__sightings') }}

),

canonical_forms as (

    select * from {{ source('identity', 'identifier_canonical_forms') }}

)

select distinct
    sightings.record_source,
    sightings.record_id,
    sightings.observed_at_utc,
    sightings.identity_type,
    canonical_forms.identity_value
from sightings
inner join canonical_forms
    on
        sightings.identity_type = canonical_forms.identity_type
        and sightings.identity_value_raw = canonical_forms.identity_value_raw
where canonical_forms.identity_value is not null
