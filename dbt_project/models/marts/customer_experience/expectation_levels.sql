-- Penalty-reward analysis per promise type (touchpoint): the CSAT drop when the promise
-- is broken (penalty) and the lift when it is exceeded (reward), each against orders where
-- it was kept exactly as promised, with 95 % confidence intervals and answer counts; and
-- the Kano-style class that follows (basic, performance, excitement, indifferent).
{% set min_effect = var('cx_expectation_min_effect_points') %}
{% set min_answers = var('cx_expectation_min_answers') %}

with promises as (
    select * from {{ ref('int_promises') }}
    where order_id is not null and outcome <> 'open'
),

responses as (
    select
        order_id,
        csat
    from {{ ref('stg_surveys__responses') }}
    where order_id is not null and csat is not null
),

order_outcomes as (
    -- one outcome per order and promise type: broken if any promise was broken,
    -- exceeded if none was broken and one was exceeded, else kept
    select
        promise_type,
        order_id,
        case
            when bool_or(outcome = 'broken') then 'broken'
            when bool_or(outcome = 'exceeded') then 'exceeded'
            else 'kept'
        end as outcome,
        min(promise_month) as month
    from promises
    group by promise_type, order_id
),

grouped as (
    select
        order_outcomes.promise_type,
        min(order_outcomes.month) as first_month,
        max(order_outcomes.month) as last_month,
        count(*) filter (where order_outcomes.outcome = 'kept') as answers_kept,
        count(*) filter (where order_outcomes.outcome = 'broken') as answers_broken,
        count(*) filter (where order_outcomes.outcome = 'exceeded') as answers_exceeded,
        {{ csat_pct("case when order_outcomes.outcome = 'kept' then responses.csat end") }} as csat_kept,
        {{ csat_pct("case when order_outcomes.outcome = 'broken' then responses.csat end") }} as csat_broken,
        {{ csat_pct("case when order_outcomes.outcome = 'exceeded' then responses.csat end") }} as csat_exceeded
    from order_outcomes
    inner join responses on order_outcomes.order_id = responses.order_id
    group by order_outcomes.promise_type
),

effects as (
    select
        *,
        csat_kept - csat_broken as penalty,
        {{ pct_diff_ci_half_width('csat_kept', 'answers_kept', 'csat_broken', 'answers_broken') }}
            as penalty_half_width,
        csat_exceeded - csat_kept as reward,
        {{ pct_diff_ci_half_width('csat_exceeded', 'answers_exceeded', 'csat_kept', 'answers_kept') }}
            as reward_half_width
    from grouped
),

classified as (
    select
        *,
        coalesce(
            answers_kept >= {{ min_answers }}
            and answers_broken >= {{ min_answers }}
            and penalty - penalty_half_width > 0
            and penalty >= {{ min_effect }},
            false
        ) as has_penalty,
        coalesce(
            answers_kept >= {{ min_answers }}
            and answers_exceeded >= {{ min_answers }}
            and reward - reward_half_width > 0
            and reward >= {{ min_effect }},
            false
        ) as has_reward
    from effects
),

final as (
    select
        promise_type,
        case promise_type
            when 'delivery_date' then 'delivery'
            when 'stock_availability' then 'ordering'
            when 'price_charged' then 'checkout'
            when 'ticket_response_sla' then 'customer_service'
            when 'return_handling' then 'returns'
        end as touchpoint,
        first_month,
        last_month,
        answers_kept,
        answers_broken,
        answers_exceeded,
        round(csat_kept, 2) as csat_kept,
        round(csat_broken, 2) as csat_broken,
        round(csat_exceeded, 2) as csat_exceeded,
        round(penalty, 2) as penalty,
        round(penalty - penalty_half_width, 2) as penalty_ci_low,
        round(penalty + penalty_half_width, 2) as penalty_ci_high,
        round(reward, 2) as reward,
        round(reward - reward_half_width, 2) as reward_ci_low,
        round(reward + reward_half_width, 2) as reward_ci_high,
        has_penalty,
        has_reward,
        case
            when has_penalty and has_reward then 'performance'
            when has_penalty then 'basic'
            when has_reward then 'excitement'
            else 'indifferent'
        end as expectation_level
    from classified
)

select * from final
