"""cxpipe.privacy: keyed hashes of PII columns and redaction of contact details in free text."""

import pandas as pd
import pytest

from cxpipe.privacy import mask_contact_details, pseudonymise, redact_pii


def test_pseudonymise_is_keyed_and_stable() -> None:
    values = pd.Series(["a@x.com", "A@X.com ", "", None])
    hashed = pseudonymise(values, "k1")
    assert hashed[0] == hashed[1]
    assert pd.isna(hashed[2]) and pd.isna(hashed[3])
    assert pseudonymise(values, "k2")[0] != hashed[0]


def test_mask_contact_details_masks_emails_and_phones_but_not_dates_or_ids() -> None:
    text = pd.Series(
        ["mail me at anna.berg+x@example.co.uk or call +46 70-123 45 67", "order O2026110100012 on 2026-11-01", None]
    )
    masked = mask_contact_details(text)
    assert masked[0] == "mail me at [EMAIL] or call [PHONE]"
    assert masked[1] == "order O2026110100012 on 2026-11-01"
    assert pd.isna(masked[2])


def test_redacts_email_addresses() -> None:
    text, kinds = redact_pii("write to anna.svensson+cx@example.co.uk please")
    assert text == "write to [EMAIL] please"
    assert kinds == ["email"]


@pytest.mark.parametrize(
    "phone",
    ["+46 70 123 45 67", "8 (912) 345-67-89", "13812345678", "+49 30 1234567", "020-7946-0958"],
)
def test_redacts_phone_numbers_in_any_writing(phone: str) -> None:
    text, kinds = redact_pii(f"call me on {phone} tomorrow")
    assert text == "call me on [PHONE] tomorrow"
    assert kinds == ["phone"]


def test_redacts_phone_numbers_glued_to_chinese_text() -> None:
    assert redact_pii("我的电话13812345678，请回电") == ("我的电话[PHONE]，请回电", ["phone"])


@pytest.mark.parametrize("card", ["4111 1111 1111 1111", "4111-1111-1111-1111", "5500000000000004", "378282246310005"])
def test_redacts_card_like_numbers(card: str) -> None:
    text, kinds = redact_pii(f"charged twice on card {card}!")
    assert text == "charged twice on card [CARD]!"
    assert kinds == ["card"]


@pytest.mark.parametrize(
    "text",
    [
        "order O2026110100012 arrived 2026-11-01 at 14:30",
        "delivery on 01.11.2026, paid 1299 SEK for 2 chairs",
        "заказ 12345 ждал 3 недели",
    ],
)
def test_leaves_dates_amounts_and_order_numbers(text: str) -> None:
    assert redact_pii(text) == (text, [])


def test_redacts_every_kind_in_one_text() -> None:
    text, kinds = redact_pii("a@b.se, 4111111111111111, +7 912 345 67 89")
    assert text == "[EMAIL], [CARD], [PHONE]"
    assert kinds == ["email", "card", "phone"]


def test_masking_a_column_is_redact_pii_of_each_value() -> None:
    texts = [
        "card 4111 1111 1111 1111, mail a@b.se",
        "我的电话13812345678，请回电",
        "call 1234567 or 020-7946-0958",
        "paid 1299 SEK on 01.11.2026 at 14:30",
        "order O2026110100012",
        "no digits, no at-sign",
        "",
    ]
    masked = mask_contact_details(pd.Series(texts))
    assert list(masked) == [redact_pii(text)[0] for text in texts]
    assert list(masked[:3]) == ["card [CARD], mail [EMAIL]", "我的电话[PHONE]，请回电", "call [PHONE] or [PHONE]"]


def test_complaints_package_re_exports_the_same_redact_pii() -> None:
    from cxpipe import complaints

    assert complaints.redact_pii is redact_pii
