-- RFM segment × month: active customers, orders, revenue, CSAT, NPS and complaint rate.
-- A customer counts in their current segment; guests (orders without a customer) are "guest".
-- Revenue is net, in the reporting currency (int_orders_enriched.revenue); orders exclude
-- credit notes.
with events as (
    select * from {{ ref('int_cx_events') }}
    where event_type in ('order', 'response', 'complaint')
),

segment_sizes as (
    select
        rfm_segment as segment,
        count(*) as segment_customers
    from {{ ref('int_customers_rfm') }}
    group by rfm_segment
),

monthly as (
    select
        event_month as month,
        segment,
        count(distinct customer_key) as active_customers,
        count(distinct customer_key) filter (where is_order = 1) as ordering_customers,
        sum(is_order)::bigint as orders,
        coalesce(sum(revenue), 0) as revenue,
        count(*) filter (where event_type = 'response') as survey_responses,
        {{ csat_pct('csat') }} as csat,
        {{ nps('nps') }} as nps,
        sum(is_complaint)::bigint as complaints,
        {{ per_thousand('sum(is_complaint)', 'sum(is_order)') }} as complaint_rate
    from events
    group by event_month, segment
),

final as (
    select
        monthly.month,
        monthly.segment,
        coalesce(segment_sizes.segment_customers, 0) as segment_customers,
        monthly.active_customers,
        monthly.ordering_customers,
        round(
            {{ float_literal(100.0) }} * monthly.active_customers
            / nullif(sum(monthly.active_customers) over (partition by monthly.month), 0),
            4
        ) as active_customer_share_pct,
        monthly.orders,
        round(monthly.revenue, 2) as revenue,
        {{ reporting_currency() }} as reporting_currency,
        round(100.0 * monthly.revenue / nullif(sum(monthly.revenue) over (partition by monthly.month), 0), 4)
            as revenue_share_pct,
        monthly.survey_responses,
        round(monthly.csat, 2) as csat,
        round(monthly.nps, 2) as nps,
        monthly.complaints,
        round(monthly.complaint_rate, 2) as complaint_rate
    from monthly
    left join segment_sizes on monthly.segment = segment_sizes.segment
)

select * from final
