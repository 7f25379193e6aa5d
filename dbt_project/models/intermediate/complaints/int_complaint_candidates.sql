-- Everything that may be a complaint: every service ticket, survey answers with a low
-- CSAT and a comment, and social posts that are low-rated reviews or unrated posts
-- (int_complaints_classified keeps the unrated posts whose sentiment is negative).
with tickets as (
    select
        'ticket' as complaint_source,
        ticket_id as source_id,
        customer_key,
        order_id,
        contact_channel,
        created_at,
        first_response_at,
        resolved_at,
        reopen_count,
        null::integer as rating,
        ticket_text as complaint_text
    from {{ ref('stg_crm__tickets') }}
),

surveys as (
    select
        'survey' as complaint_source,
        response_id as source_id,
        customer_key,
        order_id,
        'survey' as contact_channel,
        responded_at as created_at,
        null::{{ sql_type('timestamptz') }} as first_response_at,
        null::{{ sql_type('timestamptz') }} as resolved_at,
        0 as reopen_count,
        csat as rating,
        comment as complaint_text
    from {{ ref('stg_surveys__responses') }}
    where csat <= {{ var('cx_complaint_survey_max_csat') }} and comment is not null
),

social as (
    select
        'social' as complaint_source,
        post_id as source_id,
        customer_key,
        null::{{ sql_type('varchar') }} as order_id,
        platform as contact_channel,
        posted_at as created_at,
        null::{{ sql_type('timestamptz') }} as first_response_at,
        null::{{ sql_type('timestamptz') }} as resolved_at,
        0 as reopen_count,
        rating,
        post_text as complaint_text
    from {{ ref('stg_social__posts') }}
    where (rating is null or rating <= {{ var('cx_complaint_review_max_rating') }}) and post_text is not null
),

unioned as (
    select * from tickets
    union all
    select * from surveys
    union all
    select * from social
)

select
    complaint_source || ':' || source_id as complaint_id,
    *
from unioned
