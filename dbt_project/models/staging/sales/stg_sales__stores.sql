-- Incremental: each build reads the landing dates newer than the stored ones (macros/lake_increment.sql).
{{
    config(
        materialized=incremental_materialization(),
        unique_key='store_id',
    )
}}

with source as (
    select * from {{ source('sales', 'stores') }}
    where {{ lake_increment() }}
),

final as (
    select
        store_id,
        store_name,
        upper(trim(country)) as country,
        city,
        opened_date,
        load_date
    from source
    {{ dedupe_latest('store_id') }}
)

select * from final
