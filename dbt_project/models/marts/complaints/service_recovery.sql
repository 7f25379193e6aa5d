-- Does service recovery work? Per month x root cause of complaint tickets: share resolved
-- within the SLA, median response and resolution time, reopen rate, and the share of
-- complainers who bought again within cx_complaint_repurchase_days, for complaints resolved
-- within the SLA ("fast") and later or never ("slow"), next to customers who ordered that
-- month without complaining.
with tickets as (
    select *
    from {{ ref('int_complaints_classified') }}
    where complaint_source = 'ticket'
),

all_complaints as (
    select
        customer_key,
        complaint_month
    from {{ ref('int_complaints_classified') }}
    where customer_key is not null
),

all_orders as (
    select
        order_id,
        customer_key,
        ordered_at,
        status,
        order_total
    from {{ ref('stg_sales__orders') }}
    where customer_key is not null
),

-- buying again means a purchase: cancelled orders and credit notes do not count
orders as (
    select
        order_id,
        customer_key,
        ordered_at
    from all_orders
    where status is distinct from 'cancelled' and coalesce(order_total >= 0, true)
),

data_end as (
    select max(ordered_at) as last_order_at from all_orders
),

ticket_repurchase as (
    select
        tickets.complaint_id,
        tickets.complaint_month,
        tickets.root_cause,
        tickets.customer_key,
        tickets.is_resolved_within_sla,
        exists(
            select 1
            from orders
            where
                orders.customer_key = tickets.customer_key
                and orders.ordered_at > tickets.created_at
                and orders.ordered_at <= tickets.created_at + {{ days_interval(var('cx_complaint_repurchase_days')) }}
        ) as repurchased
    from tickets
    where tickets.customer_key is not null
),

-- customers who ordered in a month and did not complain in that month, from their first order
non_complainer_anchor as (
    select
        date_trunc('month', orders.ordered_at)::date as month,
        orders.customer_key,
        min(orders.ordered_at) as anchor_at
    from orders
    where
        not exists (
            select 1
            from all_complaints
            where
                all_complaints.customer_key = orders.customer_key
                and all_complaints.complaint_month = date_trunc('month', orders.ordered_at)::date
        )
    group by all
),

non_complainers as (
    select
        anchor.month,
        count(*) as non_complainers,
        {{ float_literal(100.0) }} * count(*) filter (
            where exists (
                select 1
                from orders
                where
                    orders.customer_key = anchor.customer_key
                    and orders.ordered_at > anchor.anchor_at
                    and orders.ordered_at <= anchor.anchor_at + {{ days_interval(var('cx_complaint_repurchase_days')) }}
            )
        ) / count(*) as repurchase_pct_non_complainers
    from non_complainer_anchor as anchor
    group by anchor.month
),

ticket_stats as (
    select
        complaint_month as month,
        root_cause,
        count(*) as tickets,
        count(*) filter (where is_resolved) as resolved,
        {{ float_literal(100.0) }}
        * count(*) filter (where is_resolved_within_sla) / count(*) as resolved_within_sla_pct,
        median(first_response_hours) as median_first_response_hours,
        median(resolution_hours) as median_resolution_hours,
        {{ float_literal(100.0) }} * count(*) filter (where is_reopened) / count(*) as reopen_rate_pct
    from tickets
    group by all
),

repurchase_stats as (
    select
        complaint_month as month,
        root_cause,
        count(*) filter (where is_resolved_within_sla) as complainers_fast,
        count(*) filter (where not is_resolved_within_sla) as complainers_slow,
        {{ float_literal(100.0) }} * count(*) filter (where is_resolved_within_sla and repurchased)
        / nullif(count(*) filter (where is_resolved_within_sla), 0) as repurchase_pct_fast,
        {{ float_literal(100.0) }} * count(*) filter (where not is_resolved_within_sla and repurchased)
        / nullif(count(*) filter (where not is_resolved_within_sla), 0) as repurchase_pct_slow
    from ticket_repurchase
    group by all
),

final as (
    select
        ticket_stats.month,
        ticket_stats.root_cause,
        ticket_stats.tickets,
        ticket_stats.resolved,
        round(ticket_stats.resolved_within_sla_pct, 2) as resolved_within_sla_pct,
        round(ticket_stats.median_first_response_hours, 2) as median_first_response_hours,
        round(ticket_stats.median_resolution_hours, 2) as median_resolution_hours,
        round(ticket_stats.reopen_rate_pct, 2) as reopen_rate_pct,
        coalesce(repurchase_stats.complainers_fast, 0) as complainers_fast,
        coalesce(repurchase_stats.complainers_slow, 0) as complainers_slow,
        round(repurchase_stats.repurchase_pct_fast, 2) as repurchase_pct_fast,
        round(repurchase_stats.repurchase_pct_slow, 2) as repurchase_pct_slow,
        coalesce(non_complainers.non_complainers, 0) as non_complainers,
        round(non_complainers.repurchase_pct_non_complainers, 2) as repurchase_pct_non_complainers,
        -- the repurchase window of the month's last day has fully passed in the data
        coalesce(
            last_day(ticket_stats.month) + {{ days_interval(var('cx_complaint_repurchase_days')) }}
            <= data_end.last_order_at::date,
            false
        ) as is_repurchase_window_complete
    from ticket_stats
    cross join data_end
    left join repurchase_stats
        on ticket_stats.month = repurchase_stats.month and ticket_stats.root_cause = repurchase_stats.root_cause
    left join non_complainers on ticket_stats.month = non_complainers.month
)

select * from final
