-- One row per customer (of the CRM, or known only from orders): RFM, value, membership, geography,
-- demographics, behaviour, lifecycle, and their complaint, satisfaction and promise history. No raw PII.
with customers as (
    select * from {{ ref('int_customers_rfm') }}
),

responses as (
    select
        customer_key,
        count(*) as survey_responses,
        {{ csat_pct('csat') }} as csat,
        avg(csat) as avg_csat,
        {{ arg_max('csat', 'responded_at', 'response_id') }} filter (where csat is not null) as last_csat,
        {{ arg_max('nps', 'responded_at', 'response_id') }} filter (where nps is not null) as last_nps,
        max(responded_at) as last_response_at
    from {{ ref('stg_surveys__responses') }}
    where customer_key is not null
    group by customer_key
),

complaints as (
    select
        customer_key,
        count(*) as complaints,
        max(created_at) as last_complaint_at
    from {{ ref('int_complaints_classified') }}
    where customer_key is not null
    group by customer_key
),

promises as (
    select
        customer_key,
        count(*) as promises_made,
        count(*) filter (where is_broken) as promises_broken,
        count(*) filter (where is_broken and promise_type = 'delivery_date') as delivery_promises_broken
    from {{ ref('int_promises') }}
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
        round(customers.return_rate_pct, 2) as return_rate_pct,
        customers.category_affinity,
        round(customers.category_affinity_share_pct, 2) as category_affinity_share_pct,
        customers.lifecycle_stage,
        customers.orders,
        customers.cancelled_orders,
        customers.credit_notes,
        round(customers.revenue, 2) as revenue,
        customers.reporting_currency,
        customers.first_order_at,
        customers.last_order_at,
        customers.recency_days,
        coalesce(complaints.complaints, 0) as complaints,
        round({{ per_thousand('coalesce(complaints.complaints, 0)', 'customers.orders') }}, 2) as complaint_rate,
        complaints.last_complaint_at,
        coalesce(responses.survey_responses, 0) as survey_responses,
        round(responses.csat, 2) as csat,
        round(responses.avg_csat, 2) as avg_csat,
        responses.last_csat,
        responses.last_nps,
        responses.last_response_at,
        coalesce(promises.promises_made, 0) as promises_made,
        coalesce(promises.promises_broken, 0) as promises_broken,
        coalesce(promises.delivery_promises_broken, 0) as delivery_promises_broken
    from customers
    left join responses on customers.customer_key = responses.customer_key
    left join complaints on customers.customer_key = complaints.customer_key
    left join promises on customers.customer_key = promises.customer_key
)

select * from final
