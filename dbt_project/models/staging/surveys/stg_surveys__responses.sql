with source as (
    select * from {{ source('surveys', 'responses') }}
),

final as (
    select
        response_id,
        customer_id as customer_key,
        order_id,
        touchpoint,
        channel,
        responded_at,
        csat,
        nps,
        ces,
        nullif(trim(comment), '') as comment,
        load_date
    from source
    {{ dedupe_latest('response_id') }}
)

select * from final
