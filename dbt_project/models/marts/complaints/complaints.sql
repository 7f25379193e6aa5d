-- One row per complaint from any channel and language (reporting table; no raw PII:
-- the text is redacted and customer_key is the pseudonymised key).
select
    complaint_id,
    complaint_source,
    contact_channel as channel,
    customer_key,
    order_id,
    region,
    created_at,
    complaint_month,
    complaint_week,
    language,
    redacted_text,
    root_cause,
    secondary_cause,
    evidence,
    confidence,
    classified_by,
    sentiment,
    severity,
    first_response_hours,
    resolution_hours,
    is_resolved,
    is_resolved_within_sla,
    reopen_count,
    is_reopened
from {{ ref('int_complaints_classified') }}
