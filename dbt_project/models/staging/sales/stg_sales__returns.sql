with source as (
    select * from {{ source('sales', 'returns') }}
),

final as (
    select
        return_id,
        order_id,
        line_id,
        customer_id as customer_key,
        return_channel,
        requested_at,
        refunded_at,
        status as return_status,
        reason as return_reason,
        refund_amount,
        load_date
    from source
    {{ dedupe_latest('return_id') }}
)

select * from final
