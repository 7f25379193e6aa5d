-- One long table of customer-experience events (orders, survey answers, complaints)
-- carrying the dimensions the satisfaction index is cut by.
with orders as (
    select * from {{ ref('int_orders_enriched') }}
),

customers as (
    select
        customer_key,
        rfm_segment,
        region
    from {{ ref('int_customers_rfm') }}
),

responses as (
    select * from {{ ref('stg_surveys__responses') }}
),

complaints as (
    select * from {{ ref('int_complaints_classified') }}
),

order_events as (
    select
        orders.order_month as event_month,
        coalesce(customers.rfm_segment, 'guest') as segment,
        orders.region,
        orders.channel,
        orders.touchpoint,
        null::integer as csat,
        null::integer as nps,
        null::integer as ces,
        orders.is_on_time,
        1 as is_order,
        0 as is_complaint
    from orders
    left join customers on orders.customer_key = customers.customer_key
),

response_events as (
    select
        date_trunc('month', responses.responded_at)::date as event_month,
        coalesce(customers.rfm_segment, 'guest') as segment,
        coalesce(customers.region, 'Other') as region,
        responses.channel,
        responses.touchpoint,
        responses.csat,
        responses.nps,
        responses.ces,
        null::boolean as is_on_time,
        0 as is_order,
        0 as is_complaint
    from responses
    left join customers on responses.customer_key = customers.customer_key
),

complaint_events as (
    select
        complaints.complaint_month as event_month,
        coalesce(customers.rfm_segment, 'guest') as segment,
        coalesce(orders.region, customers.region, 'Other') as region,
        orders.channel,
        orders.touchpoint,
        null::integer as csat,
        null::integer as nps,
        null::integer as ces,
        null::boolean as is_on_time,
        0 as is_order,
        1 as is_complaint
    from complaints
    left join orders on complaints.order_id = orders.order_id
    left join customers on complaints.customer_key = customers.customer_key
),

final as (
    select * from order_events
    union all
    select * from response_events
    union all
    select * from complaint_events
)

select * from final
