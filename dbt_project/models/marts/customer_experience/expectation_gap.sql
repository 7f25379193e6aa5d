-- Promise type × month × channel × region: promises made, kept rate, mean and p90 gap,
-- and the CSAT and NPS of the customers whose promise was kept vs broken (survey answers
-- about the same order). For satisfaction an order counts once per promise type: broken
-- when any of its promises of that type was broken. The revenue of those orders (net, in the
-- reporting currency) is what the broken promises put at stake.
with promises as (
    select * from {{ ref('int_promises') }}
),

orders as (
    select
        order_id,
        revenue
    from {{ ref('int_orders_enriched') }}
),

responses as (
    select
        order_id,
        csat,
        nps
    from {{ ref('stg_surveys__responses') }}
    where order_id is not null
),

promise_stats as (
    select
        promise_type,
        promise_month as month,
        channel,
        region,
        min(gap_unit) as gap_unit,
        count(*) as promises_made,
        count(*) filter (where outcome = 'open') as promises_open,
        count(is_kept) as promises_with_outcome,
        count(*) filter (where is_kept) as promises_kept,
        count(*) filter (where is_exceeded) as promises_exceeded,
        count(*) filter (where is_broken) as promises_broken,
        {{ pct_true('is_kept') }} as kept_rate,
        {{ exact_mean('gap') }} as mean_gap,
        {{ p90_of('gap') }} as p90_gap
    from promises
    group by promise_type, promise_month, channel, region
),

order_outcomes as (
    select
        promise_type,
        promise_month as month,
        channel,
        region,
        order_id,
        bool_and(is_kept) as is_kept
    from promises
    where order_id is not null and is_kept is not null
    group by promise_type, promise_month, channel, region, order_id
),

broken_revenue as (
    select
        order_outcomes.promise_type,
        order_outcomes.month,
        order_outcomes.channel,
        order_outcomes.region,
        coalesce(sum(orders.revenue) filter (where not order_outcomes.is_kept), 0) as revenue_with_broken_promise
    from order_outcomes
    inner join orders on order_outcomes.order_id = orders.order_id
    group by order_outcomes.promise_type, order_outcomes.month, order_outcomes.channel, order_outcomes.region
),

satisfaction as (
    select
        order_outcomes.promise_type,
        order_outcomes.month,
        order_outcomes.channel,
        order_outcomes.region,
        count(case when order_outcomes.is_kept then responses.csat end) as csat_answers_kept,
        {{ csat_pct('case when order_outcomes.is_kept then responses.csat end') }} as csat_when_kept,
        count(case when not order_outcomes.is_kept then responses.csat end) as csat_answers_broken,
        {{ csat_pct('case when not order_outcomes.is_kept then responses.csat end') }} as csat_when_broken,
        count(case when order_outcomes.is_kept then responses.nps end) as nps_answers_kept,
        {{ nps('case when order_outcomes.is_kept then responses.nps end') }} as nps_when_kept,
        count(case when not order_outcomes.is_kept then responses.nps end) as nps_answers_broken,
        {{ nps('case when not order_outcomes.is_kept then responses.nps end') }} as nps_when_broken
    from order_outcomes
    inner join responses on order_outcomes.order_id = responses.order_id
    group by order_outcomes.promise_type, order_outcomes.month, order_outcomes.channel, order_outcomes.region
),

final as (
    select
        promise_stats.promise_type,
        promise_stats.month,
        promise_stats.channel,
        promise_stats.region,
        promise_stats.promises_made,
        promise_stats.promises_open,
        promise_stats.promises_with_outcome,
        promise_stats.promises_kept,
        promise_stats.promises_exceeded,
        promise_stats.promises_broken,
        round(promise_stats.kept_rate, 2) as kept_rate,
        round(promise_stats.mean_gap, 3) as mean_gap,
        round(promise_stats.p90_gap, 3) as p90_gap,
        promise_stats.gap_unit,
        coalesce(satisfaction.csat_answers_kept, 0) as csat_answers_kept,
        round(satisfaction.csat_when_kept, 2) as csat_when_kept,
        coalesce(satisfaction.csat_answers_broken, 0) as csat_answers_broken,
        round(satisfaction.csat_when_broken, 2) as csat_when_broken,
        round(satisfaction.csat_when_kept - satisfaction.csat_when_broken, 2) as csat_cost_of_broken_promise,
        coalesce(satisfaction.nps_answers_kept, 0) as nps_answers_kept,
        round(satisfaction.nps_when_kept, 2) as nps_when_kept,
        coalesce(satisfaction.nps_answers_broken, 0) as nps_answers_broken,
        round(satisfaction.nps_when_broken, 2) as nps_when_broken,
        round(satisfaction.nps_when_kept - satisfaction.nps_when_broken, 2) as nps_cost_of_broken_promise,
        round(coalesce(broken_revenue.revenue_with_broken_promise, 0), 2) as revenue_with_broken_promise,
        {{ reporting_currency() }} as reporting_currency
    from promise_stats
    left join satisfaction
        on
            promise_stats.promise_type = satisfaction.promise_type
            and promise_stats.month = satisfaction.month
            and promise_stats.channel = satisfaction.channel
            and promise_stats.region = satisfaction.region
    left join broken_revenue
        on
            promise_stats.promise_type = broken_revenue.promise_type
            and promise_stats.month = broken_revenue.month
            and promise_stats.channel = broken_revenue.channel
            and promise_stats.region = broken_revenue.region
)

select * from final
