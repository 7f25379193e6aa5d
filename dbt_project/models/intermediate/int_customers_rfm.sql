-- Each CRM customer with order behaviour, RFM quintile scores and the segment they imply.
with customers as (
    select * from {{ ref('stg_crm__customers') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

regions as (
    select * from {{ ref('country_regions') }}
),

as_of as (
    select max(ordered_at) as as_of_at from orders
),

order_stats as (
    select
        customer_key,
        count(*) as orders,
        sum(order_total) as revenue,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) filter (where channel = 'store') as store_orders,
        count(*) filter (where channel <> 'store') as online_orders,
        count(*) filter (where not is_on_time) as broken_delivery_promises
    from orders
    where customer_key is not null
    group by customer_key
),

scored as (
    select
        order_stats.*,
        ntile(5) over (order by order_stats.last_order_at) as recency_score,
        ntile(5) over (order by order_stats.orders, order_stats.revenue) as frequency_score,
        ntile(5) over (order by order_stats.revenue) as monetary_score
    from order_stats
),

final as (
    select
        customers.customer_key,
        customers.membership_tier,
        customers.points,
        customers.country,
        coalesce(regions.region, 'Other') as region,
        customers.city,
        customers.signup_date,
        case
            when customers.birth_year is null then 'unknown'
            when year(as_of.as_of_at) - customers.birth_year < 25 then 'under 25'
            when year(as_of.as_of_at) - customers.birth_year < 35 then '25-34'
            when year(as_of.as_of_at) - customers.birth_year < 45 then '35-44'
            when year(as_of.as_of_at) - customers.birth_year < 55 then '45-54'
            when year(as_of.as_of_at) - customers.birth_year < 65 then '55-64'
            else '65+'
        end as age_band,
        coalesce(scored.orders, 0) as orders,
        coalesce(scored.revenue, 0) as revenue,
        scored.first_order_at,
        scored.last_order_at,
        date_diff('day', scored.last_order_at, as_of.as_of_at) as recency_days,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        coalesce(scored.broken_delivery_promises, 0) as broken_delivery_promises,
        case
            when scored.orders is null then 'no orders'
            when scored.online_orders = 0 then 'store'
            when scored.store_orders = 0 then 'online'
            else 'omnichannel'
        end as channel_preference,
        case
            when scored.orders is null then 'prospect'
            when scored.monetary_score = 5 then 'top'
            when scored.monetary_score >= 3 then 'mid'
            else 'low'
        end as value_tier,
        case
            when scored.orders is null then 'no orders'
            when scored.recency_score >= 4 and scored.frequency_score >= 4 then 'champions'
            when scored.recency_score = 5 and scored.frequency_score = 1 then 'new'
            when scored.recency_score >= 3 and scored.frequency_score >= 4 then 'loyal'
            when scored.recency_score >= 4 then 'potential loyalists'
            when scored.recency_score = 1 and scored.frequency_score >= 4 then 'cant lose'
            when scored.recency_score <= 2 and scored.frequency_score >= 3 then 'at risk'
            when scored.recency_score = 2 then 'hibernating'
            when scored.recency_score = 1 then 'lost'
            else 'needs attention'
        end as rfm_segment,
        case
            when scored.orders is null then 'prospect'
            when
                date_diff('day', scored.first_order_at, as_of.as_of_at)
                < {{ var('cx_lifecycle_at_risk_days') }} then 'new'
            when
                date_diff('day', scored.last_order_at, as_of.as_of_at)
                >= {{ var('cx_lifecycle_churned_days') }} then 'churned'
            when
                date_diff('day', scored.last_order_at, as_of.as_of_at)
                >= {{ var('cx_lifecycle_at_risk_days') }} then 'at risk'
            else 'active'
        end as lifecycle_stage
    from customers
    cross join as_of
    left join scored on customers.customer_key = scored.customer_key
    left join regions on customers.country = regions.country
)

select * from final
