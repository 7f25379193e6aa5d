with source as (
    select * from {{ source('sales', 'orders') }}
),

final as (
    select
        order_id,
        customer_id as customer_key,
        channel,
        store_id,
        upper(country) as country,
        city,
        ordered_at,
        promised_date,
        delivered_at,
        status,
        order_total,
        currency,
        load_date
    from source
    {{ dedupe_latest('order_id') }}
)

select * from final
