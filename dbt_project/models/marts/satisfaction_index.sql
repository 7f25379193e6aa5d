{%- set dimensions = ['total', 'segment', 'region', 'channel', 'touchpoint'] -%}

with events as (
    select
        *,
        'all' as total
    from {{ ref('int_cx_events') }}
),

{% for dimension in dimensions %}
    by_{{ dimension }} as (
        select
            event_month as month,
            '{{ dimension }}' as dimension,
            coalesce({{ dimension }}, 'unknown') as dimension_value,
            count(csat) + count(nps) + count(ces) as answers,
            count(csat) as csat_responses,
            count(nps) as nps_responses,
            {{ csat_pct('csat') }} as csat,
            {{ nps('nps') }} as nps,
            {{ ces('ces') }} as ces,
            100.0 * count(*) filter (where is_on_time) / nullif(count(is_on_time), 0) as on_time_rate,
            sum(is_order)::bigint as orders,
            sum(is_complaint)::bigint as complaints,
            1000.0 * sum(is_complaint) / nullif(sum(is_order), 0) as complaint_rate
        from events
        group by all
    ),

{% endfor %}
unioned as (
    {% for dimension in dimensions %}
        select * from by_{{ dimension }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        month,
        dimension,
        dimension_value,
        answers,
        csat_responses,
        nps_responses,
        round(csat, 2) as csat,
        round(nps, 2) as nps,
        round(ces, 3) as ces,
        round(on_time_rate, 2) as on_time_rate,
        orders,
        complaints,
        round(complaint_rate, 2) as complaint_rate,
        round({{ composite_index('csat', 'nps', 'ces', 'on_time_rate') }}, 2) as satisfaction_index
    from unioned
)

select * from final
