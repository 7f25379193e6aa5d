-- One long table of customer-experience events (orders, survey answers, complaints,
-- service tickets, rated social posts) carrying the dimensions the satisfaction index
-- and the segment summary are cut by. Dates are UTC calendar dates. Order revenue is net, in
-- the reporting currency (cancelled orders 0, credit notes negative); a credit note is an
-- order event with revenue that does not count as an order.
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
    select
        complaint_id,
        customer_key,
        order_id,
        created_at
    from {{ ref('int_complaints_classified') }}
),

tickets as (
    select * from {{ ref('stg_crm__tickets') }}
),

posts as (
    select * from {{ ref('stg_social__posts') }}
    where rating is not null
),

order_events as (
    select
        'order' as event_type,
        orders.order_id as event_id,
        orders.customer_key,
        orders.order_date as event_date,
        coalesce(customers.rfm_segment, 'guest') as segment,
        orders.region,
        orders.channel,
        orders.touchpoint,
        orders.store_id as store,
        orders.revenue,
        null::integer as csat,
        null::integer as nps,
        null::integer as ces,
        null::integer as sentiment_polarity,
        orders.is_on_time,
        null::double as first_response_hours,
        null::double as resolution_hours,
        case when orders.is_credit_note then 0 else 1 end as is_order,
        0 as is_complaint
    from orders
    left join customers on orders.customer_key = customers.customer_key
),

response_events as (
    select
        'response' as event_type,
        responses.response_id as event_id,
        responses.customer_key,
        {{ utc_date('responses.responded_at') }} as event_date,
        coalesce(customers.rfm_segment, 'guest') as segment,
        coalesce(orders.region, customers.region, 'Other') as region,
        responses.channel,
        responses.touchpoint,
        orders.store_id as store,
        null::double as revenue,
        responses.csat,
        responses.nps,
        responses.ces,
        case when responses.comment is not null then {{ polarity_from_score('responses.csat') }} end
            as sentiment_polarity,
        null::boolean as is_on_time,
        null::double as first_response_hours,
        null::double as resolution_hours,
        0 as is_order,
        0 as is_complaint
    from responses
    left join orders on responses.order_id = orders.order_id
    left join customers on responses.customer_key = customers.customer_key
),

complaint_events as (
    select
        'complaint' as event_type,
        complaints.complaint_id as event_id,
        complaints.customer_key,
        {{ utc_date('complaints.created_at') }} as event_date,
        coalesce(customers.rfm_segment, 'guest') as segment,
        coalesce(orders.region, customers.region, 'Other') as region,
        orders.channel,
        orders.touchpoint,
        orders.store_id as store,
        null::double as revenue,
        null::integer as csat,
        null::integer as nps,
        null::integer as ces,
        null::integer as sentiment_polarity,
        null::boolean as is_on_time,
        null::double as first_response_hours,
        null::double as resolution_hours,
        0 as is_order,
        1 as is_complaint
    from complaints
    left join orders on complaints.order_id = orders.order_id
    left join customers on complaints.customer_key = customers.customer_key
),

ticket_events as (
    select
        'ticket' as event_type,
        tickets.ticket_id as event_id,
        tickets.customer_key,
        {{ utc_date('tickets.created_at') }} as event_date,
        coalesce(customers.rfm_segment, 'guest') as segment,
        coalesce(orders.region, customers.region, 'Other') as region,
        orders.channel,
        'customer_service' as touchpoint,
        orders.store_id as store,
        null::double as revenue,
        null::integer as csat,
        null::integer as nps,
        null::integer as ces,
        null::integer as sentiment_polarity,
        null::boolean as is_on_time,
        {{ date_diff('second', 'tickets.created_at', 'tickets.first_response_at') }}
        / {{ float_literal(3600.0) }} as first_response_hours,
        {{ date_diff('second', 'tickets.created_at', 'tickets.resolved_at') }}
        / {{ float_literal(3600.0) }} as resolution_hours,
        0 as is_order,
        0 as is_complaint
    from tickets
    left join orders on tickets.order_id = orders.order_id
    left join customers on tickets.customer_key = customers.customer_key
),

post_events as (
    select
        'post' as event_type,
        posts.post_id as event_id,
        posts.customer_key,
        {{ utc_date('posts.posted_at') }} as event_date,
        coalesce(customers.rfm_segment, 'guest') as segment,
        coalesce(customers.region, 'Other') as region,
        null as channel,
        'social_media' as touchpoint,
        null as store,
        null::double as revenue,
        null::integer as csat,
        null::integer as nps,
        null::integer as ces,
        {{ polarity_from_score('posts.rating') }} as sentiment_polarity,
        null::boolean as is_on_time,
        null::double as first_response_hours,
        null::double as resolution_hours,
        0 as is_order,
        0 as is_complaint
    from posts
    left join customers on posts.customer_key = customers.customer_key
),

unioned as (
    select * from order_events
    union all
    select * from response_events
    union all
    select * from complaint_events
    union all
    select * from ticket_events
    union all
    select * from post_events
),

final as (
    select
        *,
        date_trunc('month', event_date)::date as event_month
    from unioned
)

select * from final
