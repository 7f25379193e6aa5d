-- Every complaint from tickets, negative survey comments and negative social posts,
-- with the root cause whose keywords match its text best (complaint_taxonomy seed).
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
        null::timestamptz as first_response_at,
        null::timestamptz as resolved_at,
        0 as reopen_count,
        comment as complaint_text
    from {{ ref('stg_surveys__responses') }}
    where csat <= 2 and comment is not null
),

social as (
    select
        'social' as complaint_source,
        post_id as source_id,
        customer_key,
        null as order_id,
        platform as contact_channel,
        posted_at as created_at,
        null::timestamptz as first_response_at,
        null::timestamptz as resolved_at,
        0 as reopen_count,
        post_text as complaint_text
    from {{ ref('stg_social__posts') }}
    where rating <= 2
),

unioned as (
    select * from tickets
    union all
    select * from surveys
    union all
    select * from social
),

taxonomy as (
    select
        root_cause,
        language,
        lower(keyword) as keyword
    from {{ ref('complaint_taxonomy') }}
),

matches as (
    select
        unioned.complaint_source,
        unioned.source_id,
        taxonomy.root_cause,
        taxonomy.language,
        count(*) as keyword_hits,
        string_agg(taxonomy.keyword, ', ' order by taxonomy.keyword) as matched_keywords
    from unioned
    inner join taxonomy on contains(lower(unioned.complaint_text), taxonomy.keyword)
    group by all
),

best_match as (
    select *
    from matches
    qualify row_number() over (
        partition by complaint_source, source_id
        order by keyword_hits desc, root_cause asc
    ) = 1
),

final as (
    select
        unioned.complaint_source || ':' || unioned.source_id as complaint_id,
        unioned.*,
        coalesce(best_match.root_cause, 'other') as root_cause,
        coalesce(best_match.language, 'unknown') as language,
        best_match.matched_keywords as evidence,
        date_trunc('month', unioned.created_at)::date as complaint_month
    from unioned
    left join best_match
        on
            unioned.complaint_source = best_match.complaint_source
            and unioned.source_id = best_match.source_id
)

select * from final
