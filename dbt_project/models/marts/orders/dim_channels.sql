-- Every channel of the contract and how the brand classifies it (from the `channels` seed).
with

channels as (

    select * from {{ ref('channels') }}

)

select
    channel,
    channel_name_en,
    channel_name_zh,
    is_online,
    case when is_online then 'online' else 'offline' end as online_offline,
    channel_type,
    touchpoint_type,
    is_sales_channel,
    is_marketing_channel
from channels
