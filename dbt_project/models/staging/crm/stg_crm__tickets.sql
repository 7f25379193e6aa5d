with source as (
    select * from {{ source('crm', 'tickets') }}
),

final as (
    select
        ticket_id,
        customer_id as customer_key,
        order_id,
        channel as contact_channel,
        created_at,
        first_response_at,
        resolved_at,
        coalesce(reopen_count, 0) as reopen_count,
        text as ticket_text,
        load_date
    from source
    {{ dedupe_latest('ticket_id') }}
)

select * from final
