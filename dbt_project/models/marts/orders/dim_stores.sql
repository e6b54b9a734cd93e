-- One row per store: owned (直营) or franchise (加盟), city and region. No phone.
with

stores as (

    select * from {{ ref('stg_stores__stores') }}

)

select
    store_id,
    store_name,
    store_type,
    is_franchise_store,
    city,
    region,
    opened_date
from stores
