-- Incremental: each build reads the landing dates newer than the stored ones (macros/lake_increment.sql).
{{
    config(
        materialized=incremental_materialization(),
        unique_key='order_id',
    )
}}

{%- set mappings = [
    {'seed': 'sales_channel_map', 'seed_key': 'source_channel', 'source': 'source_channel', 'column': 'channel', 'canonical': 'channel'},
    {'seed': 'order_status_map', 'seed_key': 'source_status', 'source': 'source_status', 'column': 'status', 'canonical': 'lifecycle_status'},
] -%}

with source as (
    select * from {{ source('sales', 'orders') }}
    where {{ lake_increment(mappings) }}
),

status_map as (
    {{ mapping('order_status_map', 'source_status') }}
),

channel_map as (
    {{ mapping('sales_channel_map', 'source_channel') }}
),

final as (
    select
        source.order_id,
        source.customer_id as customer_key,
        source.channel as source_channel,
        {{ mapped_value('source.channel', 'channel_map.channel') }} as channel,
        source.store_id,
        upper(trim(source.country)) as country,
        source.city,
        source.ordered_at,
        source.promised_date,
        source.delivered_at,
        source.status as source_status,
        {{ mapped_value('source.status', 'status_map.lifecycle_status') }} as status,
        source.order_total,
        upper(trim(source.currency)) as currency,
        source.load_date
    from source
    left join status_map on {{ mapping_key('source.status') }} = status_map.mapping_key
    left join channel_map on {{ mapping_key('source.channel') }} = channel_map.mapping_key
    {{ dedupe_latest('source.order_id', 'source.') }}
)

select * from final
