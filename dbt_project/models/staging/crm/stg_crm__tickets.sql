-- Incremental: each build reads the landing dates newer than the stored ones (macros/lake_increment.sql).
{{
    config(
        materialized=incremental_materialization(),
        unique_key='ticket_id',
    )
}}

{%- set mappings = [
    {'seed': 'ticket_channel_map', 'seed_key': 'source_channel', 'source': 'source_channel', 'column': 'contact_channel', 'canonical': 'channel'},
] -%}

with source as (
    select * from {{ source('crm', 'tickets') }}
    where {{ lake_increment(mappings) }}
),

channel_map as (
    {{ mapping('ticket_channel_map', 'source_channel') }}
),

final as (
    select
        source.ticket_id,
        source.customer_id as customer_key,
        source.order_id,
        source.channel as source_channel,
        {{ mapped_value('source.channel', 'channel_map.channel') }} as contact_channel,
        source.created_at,
        source.first_response_at,
        source.resolved_at,
        coalesce(source.reopen_count, 0) as reopen_count,
        source.text as ticket_text,
        source.load_date
    from source
    left join channel_map on {{ mapping_key('source.channel') }} = channel_map.mapping_key
    {{ dedupe_latest('source.ticket_id', 'source.') }}
)

select * from final
