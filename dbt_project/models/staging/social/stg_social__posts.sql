with source as (
    select * from {{ source('social', 'posts') }}
),

final as (
    select
        post_id,
        {{ normalized_code('platform') }} as platform,
        kind,
        handle as handle_key,
        customer_id as customer_key,
        posted_at,
        text as post_text,
        rating,
        load_date
    from source
    {{ dedupe_latest('post_id') }}
)

select * from final
