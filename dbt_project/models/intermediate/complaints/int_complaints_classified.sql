-- One row per complaint: candidates that are complaints, with the analysis of their text,
-- the analysts' override (wins over the classifier), region, timings and severity.
with candidates as (
    select * from {{ ref('int_complaint_candidates') }}
),

nlp as (
    select * from {{ ref('int_complaint_texts_nlp') }}
),

overrides as (
    select * from {{ ref('complaint_overrides') }}
),

orders as (
    select
        order_id,
        country
    from {{ ref('stg_sales__orders') }}
),

customers as (
    select
        customer_key,
        country
    from {{ ref('stg_crm__customers') }}
),

regions as (
    select * from {{ ref('country_regions') }}
),

joined as (
    select
        candidates.complaint_id,
        candidates.complaint_source,
        candidates.source_id,
        candidates.customer_key,
        candidates.order_id,
        candidates.contact_channel,
        candidates.created_at,
        candidates.first_response_at,
        candidates.resolved_at,
        candidates.reopen_count,
        candidates.rating,
        coalesce(orders.country, customers.country) as country,
        nlp.language,
        nlp.language_confidence,
        nlp.redacted_text,
        nlp.pii_found,
        nlp.root_cause as classifier_root_cause,
        nlp.sentiment,
        overrides.root_cause as override_root_cause,
        coalesce(overrides.root_cause, nlp.root_cause, 'other') as root_cause,
        case
            when overrides.root_cause is not null then overrides.secondary_cause
            else nlp.secondary_cause
        end as secondary_cause,
        case
            when overrides.root_cause is not null
                then 'override: ' || coalesce(overrides.reason, 'no reason given')
            else nlp.evidence
        end as evidence,
        case when overrides.root_cause is not null then 1.0 else coalesce(nlp.confidence, 0.0) end as confidence,
        case when overrides.root_cause is not null then 'override' else coalesce(nlp.classified_by, 'none') end
            as classified_by
    from candidates
    left join nlp on candidates.complaint_id = nlp.complaint_id
    left join overrides on candidates.complaint_id = overrides.complaint_id
    left join orders on candidates.order_id = orders.order_id
    left join customers on candidates.customer_key = customers.customer_key
),

complaints_only as (
    select *
    from joined
    -- an unrated social post is a complaint when it reads negative, or neutral with a cause
    where
        complaint_source != 'social'
        or rating is not null
        or sentiment < 0
        or (
            sentiment <= {{ var('cx_complaint_post_max_sentiment') }}
            and classifier_root_cause != 'other'
        )
        or override_root_cause is not null
),

timed as (
    select
        *,
        {{ date_diff('minute', 'created_at', 'first_response_at') }}
        / {{ float_literal(60.0) }} as first_response_hours,
        {{ date_diff('minute', 'created_at', 'resolved_at') }} / {{ float_literal(60.0) }} as resolution_hours
    from complaints_only
),

final as (
    select
        timed.complaint_id,
        timed.complaint_source,
        timed.source_id,
        timed.customer_key,
        timed.order_id,
        timed.contact_channel,
        coalesce(regions.region, 'Other') as region,
        timed.created_at,
        date_trunc('month', timed.created_at)::date as complaint_month,
        date_trunc('week', timed.created_at)::date as complaint_week,
        coalesce(timed.language, 'unknown') as language,
        timed.language_confidence,
        timed.redacted_text,
        timed.pii_found,
        timed.root_cause,
        timed.secondary_cause,
        timed.evidence,
        timed.confidence,
        timed.classified_by,
        timed.classifier_root_cause,
        timed.sentiment,
        timed.first_response_at,
        timed.resolved_at,
        round(timed.first_response_hours, 2) as first_response_hours,
        round(timed.resolution_hours, 2) as resolution_hours,
        timed.resolved_at is not null as is_resolved,
        coalesce(timed.reopen_count, 0) as reopen_count,
        coalesce(timed.reopen_count, 0) > 0 as is_reopened,
        case
            when timed.complaint_source != 'ticket' then null
            else coalesce(timed.resolution_hours <= {{ var('cx_complaint_sla_hours') }}, false)
        end as is_resolved_within_sla,
        case
            when
                timed.sentiment <= {{ var('cx_complaint_high_severity_sentiment') }}
                or coalesce(timed.reopen_count, 0) > 0
                or timed.resolution_hours > {{ var('cx_complaint_sla_hours') }}
                then 'high'
            when timed.sentiment <= {{ var('cx_complaint_medium_severity_sentiment') }} then 'medium'
            else 'low'
        end as severity
    from timed
    left join regions on timed.country = regions.country
)

select * from final
