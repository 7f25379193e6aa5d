-- Incremental: each build reads the landing dates newer than the stored ones (macros/lake_increment.sql).
{{
    config(
        materialized=incremental_materialization(),
        unique_key='customer_key',
    )
}}

with source as (
    select * from {{ source('crm', 'customers') }}
    where {{ lake_increment() }}
),

final as (
    select
        customer_id as customer_key,
        email as email_key,
        birth_year,
        upper(trim(country)) as country,
        city,
        {{ normalized_code('membership_tier') }} as membership_tier,
        points,
        signup_date,
        marketing_consent,
        updated_at,
        load_date
    from source
    {{ dedupe_latest('customer_id') }}
)

select * from final
