-- Incremental: each build reads the landing dates newer than the stored ones (macros/lake_increment.sql).
{{
    config(
        materialized=incremental_materialization(),
        unique_key='post_id',
    )
}}

with source as (
    select * from {{ source('social', 'posts') }}
    where {{ lake_increment() }}
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
