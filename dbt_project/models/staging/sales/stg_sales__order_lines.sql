with source as (
    select * from {{ source('sales', 'order_lines') }}
),

final as (
    select
        line_id,
        order_id,
        product_id,
        category,
        quantity,
        qty_fulfilled,
        stock_promised,
        shown_price,
        unit_price,
        coalesce(discount, 0) as discount,
        quantity * unit_price - coalesce(discount, 0) as line_amount,
        load_date
    from source
    {{ dedupe_latest('line_id') }}
)

select * from final
