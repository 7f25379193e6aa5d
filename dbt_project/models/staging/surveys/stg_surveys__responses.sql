-- Incremental: each build reads the landing dates newer than the stored ones (macros/lake_increment.sql).
{{
    config(
        materialized=incremental_materialization(),
        unique_key='response_id',
    )
}}

{%- set mappings = [
    {'seed': 'sales_channel_map', 'seed_key': 'source_channel', 'source': 'source_channel', 'column': 'channel', 'canonical': 'channel'},
] -%}

with source as (
    select * from {{ source('surveys', 'responses') }}
    where {{ lake_increment(mappings) }}
),

channel_map as (
    {{ mapping('sales_channel_map', 'source_channel') }}
),

final as (
    select
        source.response_id,
        source.customer_id as customer_key,
        source.order_id,
        {{ normalized_code('source.touchpoint') }} as touchpoint,
        source.channel as source_channel,
        {{ mapped_value('source.channel', 'channel_map.channel') }} as channel,
        source.responded_at,
        source.csat,
        source.nps,
        source.ces,
        nullif(trim(source.comment), '') as comment,
        source.load_date
    from source
    left join channel_map on {{ mapping_key('source.channel') }} = channel_map.mapping_key
    {{ dedupe_latest('source.response_id', 'source.') }}
)

select * from final
