-- One row per customer-experience event (order, survey response, complaint, service ticket,
-- rated social post) with the dimensions the satisfaction index is cut by: the fact table
-- the semantic layer (models/semantic/) computes its metrics from. A dimension an event does
-- not have is 'unknown', as in satisfaction_index, so a metric grouped by it equals the mart.
with events as (
    select * from {{ ref('int_cx_events') }}
),

final as (
    select
        event_type,
        event_id,
        customer_key,
        event_date,
        event_month,
        coalesce(segment, 'unknown') as segment,
        coalesce(region, 'unknown') as region,
        coalesce(channel, 'unknown') as channel,
        coalesce(touchpoint, 'unknown') as touchpoint,
        coalesce(store, 'unknown') as store,
        revenue,
        csat,
        nps,
        ces,
        sentiment_polarity,
        is_on_time,
        first_response_hours,
        resolution_hours,
        is_order,
        is_complaint
    from events
)

select * from final
