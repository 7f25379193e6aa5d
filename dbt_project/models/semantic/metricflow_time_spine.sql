-- One row per calendar day, 2000-01-01 to 2040-12-31: the time spine MetricFlow joins
-- cumulative metrics (rolling 90-day NPS) to. Published beside the reporting tables.
with days as (
    select unnest(generate_series(date '2000-01-01', date '2040-12-31', interval 1 day)) as day_start
),

final as (
    select cast(day_start as date) as date_day
    from days
)

select * from final
