-- Early warning: weekly complaints per root cause and region against their own trailing
-- baseline. Rule (vars in dbt_project.yml): a week is an alert when
--   count >= cx_alert_min_count
--   and P(X >= count) < cx_alert_p_value for X ~ Poisson(lambda),
--   lambda = max(mean weekly count of the previous cx_alert_baseline_weeks weeks, cx_alert_min_baseline),
--   and at least cx_alert_min_history_weeks previous weeks exist.
-- Weeks without complaints count 0. One row per evaluated week x cause x region.
with complaints as (
    select * from {{ ref('int_complaints_classified') }}
),

weeks as (
    {{ date_series('min(complaint_week)', 'max(complaint_week)', '1 week', 'week_start', as_date=true) }}
    from complaints
),

series as (
    select distinct
        root_cause,
        region
    from complaints
),

counts as (
    select
        complaint_week as week_start,
        root_cause,
        region,
        count(*) as complaints
    from complaints
    group by all
),

grid as (
    select
        weeks.week_start,
        series.root_cause,
        series.region,
        coalesce(counts.complaints, 0) as complaints
    from weeks
    cross join series
    left join counts
        on
            weeks.week_start = counts.week_start
            and series.root_cause = counts.root_cause
            and series.region = counts.region
),

baselined as (
    select
        *,
        avg(complaints) over baseline_window as baseline_mean,
        count(*) over baseline_window as history_weeks
    from grid
    window baseline_window as (
        partition by root_cause, region order by week_start
        rows between {{ var('cx_alert_baseline_weeks') }} preceding and 1 preceding
    )
),

evaluated as (
    select
        *,
        greatest(coalesce(baseline_mean, 0), {{ var('cx_alert_min_baseline') }}) as poisson_lambda
    from baselined
    where history_weeks >= {{ var('cx_alert_min_history_weeks') }}
),

tested as (
    select
        *,
        -- upper tail of the Poisson distribution: sum of P(X = k) for k >= complaints
        least(
            1.0,
            {{ poisson_upper_tail('complaints', 'poisson_lambda') }}
        ) as p_value
    from evaluated
),

final as (
    select
        week_start,
        (week_start + interval 6 day)::date as week_end,
        root_cause,
        region,
        complaints,
        round(baseline_mean, 3) as baseline_mean,
        history_weeks,
        poisson_lambda,
        round(p_value, 6) as p_value,
        round(complaints / poisson_lambda, 2) as ratio_to_baseline,
        complaints >= {{ var('cx_alert_min_count') }} and p_value < {{ var('cx_alert_p_value') }} as is_alert,
        'poisson p<{{ var("cx_alert_p_value") }} vs mean of previous {{ var("cx_alert_baseline_weeks") }} weeks, '
        || 'count>={{ var("cx_alert_min_count") }}' as alert_rule,
        week_start || '|' || root_cause || '|' || region as alert_key
    from tested
)

select * from final
