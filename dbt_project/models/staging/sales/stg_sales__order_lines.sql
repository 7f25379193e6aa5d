-- Incremental: each build reads the landing dates newer than the stored ones (macros/lake_increment.sql).
{{
    config(
        materialized=incremental_materialization(),
        unique_key='line_id',
    )
}}

{%- set mappings = [
    {'seed': 'category_map', 'seed_key': 'source_category', 'source': 'source_category', 'column': 'category', 'canonical': 'category'},
    {'seed': 'category_map', 'seed_key': 'source_category', 'source': 'source_category', 'column': 'department', 'canonical': 'department'},
] -%}

with source as (
    select * from {{ source('sales', 'order_lines') }}
    where {{ lake_increment(mappings) }}
),

category_map as (
    {{ mapping('category_map', 'source_category') }}
),

final as (
    select
        source.line_id,
        source.order_id,
        source.product_id,
        source.category as source_category,
        {{ mapped_value('source.category', 'category_map.category') }} as category,
        {{ mapped_value('source.category', 'category_map.department') }} as department,
        source.quantity,
        source.qty_fulfilled,
        source.stock_promised,
        source.shown_price,
        source.unit_price,
        coalesce(source.discount, 0) as discount,
        source.quantity * source.unit_price - coalesce(source.discount, 0) as line_amount,
        source.load_date
    from source
    left join category_map on {{ mapping_key('source.category') }} = category_map.mapping_key
    {{ dedupe_latest('source.line_id', 'source.') }}
)

select * from final
