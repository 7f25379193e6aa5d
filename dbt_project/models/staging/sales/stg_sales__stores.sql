with source as (
    select * from {{ source('sales', 'stores') }}
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
