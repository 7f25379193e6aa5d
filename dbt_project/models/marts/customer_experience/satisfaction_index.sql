-- Month × dimension (total, segment, region, channel, touchpoint, store) in long form:
-- survey metrics, rolling NPS, sentiment, on-time rate, complaint rate, service times and
-- the composite index, with counts and a small-cell flag. Formulas: macros/metrics.sql.
{% set dimensions = ['total', 'segment', 'region', 'channel', 'touchpoint', 'store'] %}

with events as (
    select
        *,
        'all' as total
    from {{ ref('int_cx_events') }}
),

long_events as (
    {% for dimension in dimensions %}
        select
            '{{ dimension }}' as dimension,
            coalesce({{ dimension }}::{{ sql_type('varchar') }}, 'unknown') as dimension_value,
            event_type,
            event_date,
            event_month,
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
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

monthly as (
    select
        event_month as month,
        dimension,
        dimension_value,
        count(*) filter (where event_type = 'response') as responses,
        count(csat) + count(nps) + count(ces) as answers,
        count(csat) as csat_responses,
        count(nps) as nps_responses,
        count(ces) as ces_responses,
        {{ csat_pct('csat') }} as csat,
        {{ nps('nps') }} as nps,
        {{ ces('ces') }} as ces,
        count(sentiment_polarity) as sentiment_mentions,
        {{ net_sentiment('sentiment_polarity') }} as sentiment,
        count(is_on_time) as deliveries_with_promise,
        {{ pct_true('is_on_time') }} as on_time_rate,
        sum(is_order)::bigint as orders,
        sum(is_complaint)::bigint as complaints,
        {{ per_thousand('sum(is_complaint)', 'sum(is_order)') }} as complaint_rate,
        count(*) filter (where event_type = 'ticket') as tickets,
        {{ median_of('first_response_hours') }} as first_response_hours_median,
        {{ p90_of('first_response_hours') }} as first_response_hours_p90,
        {{ median_of('resolution_hours') }} as resolution_hours_median,
        {{ p90_of('resolution_hours') }} as resolution_hours_p90
    from long_events
    group by event_month, dimension, dimension_value
),

rolling as (
    -- NPS over the answers of the cx_rolling_nps_days days ending on the month's last day
    select
        monthly.month,
        monthly.dimension,
        monthly.dimension_value,
        count(long_events.nps) as nps_rolling_responses,
        {{ nps('long_events.nps') }} as nps_rolling
    from monthly
    inner join long_events
        on
            monthly.dimension = long_events.dimension
            and monthly.dimension_value = long_events.dimension_value
            and long_events.event_date > last_day(monthly.month) - {{ var('cx_rolling_nps_days') }}
            and long_events.event_date <= last_day(monthly.month)
            and long_events.nps is not null
    group by monthly.month, monthly.dimension, monthly.dimension_value
),

final as (
    select
        monthly.month,
        monthly.dimension,
        monthly.dimension_value,
        monthly.responses,
        monthly.answers,
        monthly.csat_responses,
        monthly.nps_responses,
        monthly.ces_responses,
        round(monthly.csat, 2) as csat,
        round(monthly.nps, 2) as nps,
        coalesce(rolling.nps_rolling_responses, 0) as nps_rolling_90d_responses,
        round(rolling.nps_rolling, 2) as nps_rolling_90d,
        round(monthly.ces, 3) as ces,
        monthly.sentiment_mentions,
        round(monthly.sentiment, 2) as sentiment,
        monthly.deliveries_with_promise,
        round(monthly.on_time_rate, 2) as on_time_rate,
        monthly.orders,
        monthly.complaints,
        round(monthly.complaint_rate, 2) as complaint_rate,
        monthly.tickets,
        round(monthly.first_response_hours_median, 2) as first_response_hours_median,
        round(monthly.first_response_hours_p90, 2) as first_response_hours_p90,
        round(monthly.resolution_hours_median, 2) as resolution_hours_median,
        round(monthly.resolution_hours_p90, 2) as resolution_hours_p90,
        round(
            {{ composite_index('monthly.csat', 'monthly.nps', 'monthly.ces', 'monthly.on_time_rate') }}, 2
        ) as satisfaction_index,
        monthly.responses < {{ var('cx_min_responses') }} as is_small_cell
    from monthly
    left join rolling
        on
            monthly.month = rolling.month
            and monthly.dimension = rolling.dimension
            and monthly.dimension_value = rolling.dimension_value
)

select * from final
