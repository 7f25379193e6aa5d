-- No published complaint text may hold PII. What PII is, is defined once, in
-- cxpipe.privacy (e-mail addresses, Luhn-valid card numbers, phone-shaped numbers; not
-- tracking codes, order numbers, amounts, postal codes, dates): int_complaint_texts_nlp
-- redacts with cxpipe.privacy.redact_pii and records in pii_remaining what
-- cxpipe.privacy.find_pii still finds in the redacted text. This test fails on any complaint
-- with something remaining, without a checked text, or whose published text is not the
-- checked one.
select
    complaints.complaint_id,
    nlp.pii_remaining,
    case
        when nlp.complaint_id is null then 'text not checked by int_complaint_texts_nlp'
        when nlp.pii_remaining is null then 'pii_remaining not computed'
        when nlp.pii_remaining <> '' then 'PII remains after redaction: ' || nlp.pii_remaining
        else 'published text differs from the checked redacted text'
    end as problem
from {{ ref('complaints') }} as complaints
left join {{ ref('int_complaint_texts_nlp') }} as nlp
    on complaints.complaint_id = nlp.complaint_id
where
    nlp.complaint_id is null
    or nlp.pii_remaining is null
    or nlp.pii_remaining <> ''
    or complaints.redacted_text is distinct from nlp.redacted_text
