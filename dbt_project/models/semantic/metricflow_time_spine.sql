-- One row per calendar day, 2000-01-01 to 2040-12-31: the time spine MetricFlow joins
-- cumulative metrics (rolling 90-day NPS) to. Published beside the reporting tables.
with days as (
    {{ date_series("date '2000-01-01'", "date '2040-12-31'", '1 day', 'day_start') }}
),

final as (
    select cast(day_start as date) as date_day
    from days
)

select * from final
