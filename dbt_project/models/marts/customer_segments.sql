with customers as (
    select * from {{ ref('int_customers_rfm') }}
),

responses as (
    select
        customer_key,
        avg(csat) as avg_csat,
        arg_max(nps, responded_at) filter (where nps is not null) as last_nps,
        count(*) as survey_responses
    from {{ ref('stg_surveys__responses') }}
    where customer_key is not null
    group by customer_key
),

complaints as (
    select
        customer_key,
        count(*) as complaints
    from {{ ref('int_complaints_classified') }}
    where customer_key is not null
    group by customer_key
),

final as (
    select
        customers.customer_key,
        customers.rfm_segment,
        customers.recency_score,
        customers.frequency_score,
        customers.monetary_score,
        customers.value_tier,
        customers.membership_tier,
        customers.points,
        customers.country,
        customers.region,
        customers.city,
        customers.age_band,
        customers.channel_preference,
        customers.lifecycle_stage,
        customers.orders,
        round(customers.revenue, 2) as revenue,
        customers.first_order_at,
        customers.last_order_at,
        customers.recency_days,
        customers.broken_delivery_promises,
        coalesce(complaints.complaints, 0) as complaints,
        coalesce(responses.survey_responses, 0) as survey_responses,
        round(responses.avg_csat, 2) as avg_csat,
        responses.last_nps
    from customers
    left join responses on customers.customer_key = responses.customer_key
    left join complaints on customers.customer_key = complaints.customer_key
)

select * from final
