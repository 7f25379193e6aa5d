-- Pareto of complaint root causes per month, overall (dimension 'all') and within each
-- channel and each language: count, share, cumulative share, rank, vital few, change.
with complaints as (
    select * from {{ ref('int_complaints_classified') }}
),

by_dimension as (
    select
        complaint_month as month,
        'all' as dimension,
        'all' as dimension_value,
        root_cause
    from complaints
    union all
    select
        complaint_month as month,
        'channel' as dimension,
        contact_channel as dimension_value,
        root_cause
    from complaints
    union all
    select
        complaint_month as month,
        'language' as dimension,
        language as dimension_value,
        root_cause
    from complaints
),

counted as (
    select
        month,
        dimension,
        coalesce(dimension_value, 'unknown') as dimension_value,
        root_cause,
        count(*) as complaints
    from by_dimension
    group by all
),

ranked as (
    select
        *,
        {{ float_literal(100.0) }}
        * complaints / sum(complaints) over (partition by month, dimension, dimension_value) as share_pct,
        row_number() over (
            partition by month, dimension, dimension_value
            order by complaints desc, root_cause asc
        ) as pareto_rank
    from counted
),

cumulated as (
    select
        *,
        sum(share_pct) over (
            partition by month, dimension, dimension_value order by pareto_rank
            rows between unbounded preceding and current row
        ) as cumulative_share_pct
    from ranked
),

months as (
    select
        min(month) as first_month,
        max(month) as last_month
    from counted
),

final as (
    select
        cumulated.month,
        cumulated.dimension,
        cumulated.dimension_value,
        cumulated.root_cause,
        cumulated.complaints,
        round(cumulated.share_pct, 2) as share_pct,
        round(cumulated.cumulative_share_pct, 2) as cumulative_share_pct,
        cumulated.pareto_rank::bigint as pareto_rank,
        -- a cause is in the vital few when the causes ranked above it cover less than the threshold
        (cumulated.cumulative_share_pct - cumulated.share_pct) < {{ var('cx_vital_few_share') }} as is_vital_few,
        -- the previous calendar month; a cause without complaints then counts 0 (null before the data starts)
        case
            when cumulated.month > months.first_month then coalesce(previous.complaints, 0)
        end as previous_month_complaints,
        cumulated.complaints - previous_month_complaints as change_vs_previous_month,
        round(
            {{ float_literal(100.0) }}
            * (cumulated.complaints - previous_month_complaints) / nullif(previous_month_complaints, 0), 1
        ) as change_vs_previous_month_pct
    from cumulated
    cross join months
    left join counted as previous
        on
            cumulated.dimension = previous.dimension
            and cumulated.dimension_value = previous.dimension_value
            and cumulated.root_cause = previous.root_cause
            and previous.month = (cumulated.month - interval 1 month)::date
)

select * from final
