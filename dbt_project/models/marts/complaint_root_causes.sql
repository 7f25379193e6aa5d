with complaints as (
    select * from {{ ref('int_complaints_classified') }}
),

counted as (
    select
        complaint_month as month,
        root_cause,
        count(*) as complaints
    from complaints
    group by all
),

ranked as (
    select
        *,
        100.0 * complaints / sum(complaints) over (partition by month) as share_pct,
        row_number() over (partition by month order by complaints desc, root_cause asc) as pareto_rank
    from counted
),

cumulated as (
    select
        *,
        sum(share_pct) over (
            partition by month order by pareto_rank
            rows between unbounded preceding and current row
        ) as cumulative_share_pct,
        lag(complaints) over (partition by root_cause order by month) as previous_month_complaints
    from ranked
),

final as (
    select
        month,
        root_cause,
        complaints,
        round(share_pct, 2) as share_pct,
        round(cumulative_share_pct, 2) as cumulative_share_pct,
        pareto_rank,
        -- a cause is in the vital few when the causes ranked above it cover less than the threshold
        (cumulative_share_pct - share_pct) < {{ var('cx_vital_few_share') }} as is_vital_few,
        previous_month_complaints,
        complaints - previous_month_complaints as change_vs_previous_month
    from cumulated
)

select * from final
