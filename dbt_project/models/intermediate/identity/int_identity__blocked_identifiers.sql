-- Identifiers that must never link anyone: listed test values and the stores' own phones.
with

blocklist as (

    select
        identity_type,
        identity_value,
        reason
    from {{ ref('identity_blocklist') }}

),

store_phones as (

    select distinct
        identity_type,
        identity_value,
        cast('store_phone' as {{ dbt.type_string() }}) as reason
    from {{ ref('int_identity__observations') }}
    where record_source = 'store_master'

)

select
    identity_type,
    identity_value,
    reason
from blocklist
union all
select
    identity_type,
    identity_value,
    reason
from store_phones
