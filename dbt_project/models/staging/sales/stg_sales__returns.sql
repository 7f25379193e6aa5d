-- Incremental: each build reads the landing dates newer than the stored ones (macros/lake_increment.sql).
{{
    config(
        materialized=incremental_materialization(),
        unique_key='return_id',
    )
}}

{%- set mappings = [
    {'seed': 'sales_channel_map', 'seed_key': 'source_channel', 'source': 'source_return_channel', 'column': 'return_channel', 'canonical': 'channel'},
] -%}

with source as (
    select * from {{ source('sales', 'returns') }}
    where {{ lake_increment(mappings) }}
),

channel_map as (
    {{ mapping('sales_channel_map', 'source_channel') }}
),

final as (
    select
        source.return_id,
        source.order_id,
        source.line_id,
        source.customer_id as customer_key,
        source.return_channel as source_return_channel,
        {{ mapped_value('source.return_channel', 'channel_map.channel') }} as return_channel,
        source.requested_at,
        source.refunded_at,
        {{ normalized_code('source.status') }} as return_status,
        source.reason as return_reason,
        source.refund_amount,
        source.load_date
    from source
    left join channel_map on {{ mapping_key('source.return_channel') }} = channel_map.mapping_key
    {{ dedupe_latest('source.return_id', 'source.') }}
)

select * from final
