-- The published complaint text must not contain e-mail addresses or long digit runs
-- (phone or card numbers); cxpipe.complaints.redact_pii replaces them by tokens.
select
    complaint_id,
    redacted_text
from {{ ref('complaints') }}
where
    regexp_matches(redacted_text, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}')
    or regexp_matches(regexp_replace(redacted_text, '[ ().-]', '', 'g'), '\d{9,}')
