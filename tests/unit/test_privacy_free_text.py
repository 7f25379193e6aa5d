"""Names, street addresses and disguised contacts in free text (cxpipe.privacy.free_text, through find_pii)."""

from __future__ import annotations

import pytest

from cxpipe.privacy import find_pii, redact_pii
from cxpipe.privacy.free_text import AMBIGUOUS_GIVEN_NAMES, gazetteer


def _found(text: str) -> list[tuple[str, str]]:
    return [(kind, text[start:end]) for kind, (start, end) in find_pii(text)]


NAMES = [
    # a title, whatever the name
    ("Mr Okonkwo from your shop was rude", "Okonkwo"),
    ("Mrs. Xiadani Quetzal called twice", "Xiadani Quetzal"),
    ("Frau Müller-Lüdenscheidt hat nie geantwortet", "Müller-Lüdenscheidt"),
    ("г-н Иванов не перезвонил", "Иванов"),
    ("Sra. Costa esperou duas semanas", "Costa"),
    ("Mme Dubois attend toujours", "Dubois"),
    # an introduction, whatever the name
    ("my name is Zyanya Otieno and nobody answers", "Zyanya Otieno"),
    ("Меня зовут Айгерим Нурланова, заказ потерян", "Айгерим Нурланова"),
    ("Ich heiße Jannik, die Lieferung fehlt", "Jannik"),
    ("jag heter Linnea Ek och paketet kom aldrig", "Linnea Ek"),
    ("me llamo Lucía Fernández y no llegó", "Lucía Fernández"),
    ("je m'appelle Amélie Laurent", "Amélie Laurent"),
    ("Meu nome é João Silva, o pedido atrasou", "João Silva"),
    # a given name of the gazetteer with a surname
    ("Anna Svensson at the counter was great", "Anna Svensson"),
    ("courier Michael Johnson left it outside", "Michael Johnson"),
    ("Иван Петрович Сидоров обещал вернуть деньги", "Иван Петрович Сидоров"),
    ("Klaus Becker vom Kundendienst", "Klaus Becker"),
    # Chinese: a cue, or a title after the surname
    ("我叫张伟，快递一直没到", "张伟"),
    ("收件人：李娜 电话打不通", "李娜"),
    ("快递员王先生态度很差", "王"),
    ("欧阳女士说会退款", "欧阳"),
]


@pytest.mark.parametrize(("text", "name"), NAMES)
def test_names_are_found_by_title_introduction_or_gazetteer(text: str, name: str) -> None:
    assert ("name", name) in _found(text)
    redacted, kinds = redact_pii(text)
    assert name not in redacted and "[NAME]" in redacted and kinds == ["name"]


ADDRESSES = [
    ("send it to 221B Baker Street, apt 4 instead", "221B Baker Street, apt 4"),
    ("delivered to 1600 Pennsylvania Avenue NW by mistake", "1600 Pennsylvania Avenue NW"),
    ("Lieferung an Hauptstraße 5 kam nie an", "Hauptstraße 5"),
    ("an die Berliner Str. 12a bitte", "Berliner Str. 12a"),
    ("paketet till Storgatan 12 försvann", "Storgatan 12"),
    ("доставка на ул. Ленина, д. 5, кв. 12 не пришла", "ул. Ленина, д. 5, кв. 12"),
    ("курьер не нашёл проспект Мира 10", "проспект Мира 10"),
    ("Entrega na Rua das Flores, 123 atrasou", "Rua das Flores, 123"),
    ("enviado a Calle Mayor 5 sin aviso", "Calle Mayor 5"),
    ("livré au 12 rue de la Paix par erreur", "12 rue de la Paix"),
    ("送到南京西路1266号的包裹丢了", "南京西路1266号"),
]


@pytest.mark.parametrize(("text", "address"), ADDRESSES)
def test_street_addresses_with_a_house_number_are_found(text: str, address: str) -> None:
    assert ("address", address) in _found(text)
    redacted, kinds = redact_pii(text)
    assert address not in redacted and "[ADDRESS]" in redacted and kinds == ["address"]


DISGUISED = [
    ("write to anna(at)gmail(dot)com please", "email", "anna(at)gmail(dot)com"),
    ("mail: ivan [at] yandex [dot] ru", "email", "ivan [at] yandex [dot] ru"),
    ("or anna.berg at outlook dot com", "email", "anna.berg at outlook dot com"),
    ("kontakt: lisa@mail dot se", "email", "lisa@mail dot se"),
    ("пишите petrov(собака)mail.ru", "email", "petrov(собака)mail.ru"),
    ("call 0 7 0 1 2 3 4 5 6 7 tonight", "phone", "0 7 0 1 2 3 4 5 6 7"),
    ("ring +4.6.7.0.1.2.3.4.5.6.7", "phone", "+4.6.7.0.1.2.3.4.5.6.7"),
]


@pytest.mark.parametrize(("text", "kind", "span"), DISGUISED)
def test_disguised_emails_and_phones_written_digit_by_digit_are_found(text: str, kind: str, span: str) -> None:
    assert (kind, span) in _found(text)
    assert span not in redact_pii(text)[0]


KEPT = [
    "The Bill Payment page crashed and May I say the app is Slow",
    "Will Smith movies aside, the delivery was late",  # 'Will' needs a title or an introduction
    "Samsung Galaxy arrived broken. Thanks Apple Store",
    "Victoria Station pickup point was closed",
    "Beverly Hills store refused the return",
    "I waited at home all day, the courier never came at all",
    "out for delivery for 70 hours, order 123456789",
    "Вера в ваш сервис пропала",  # Вера is faith here
    "我是会员，快递太慢了",  # 我是 + not a name
    "我是顾客，就这样对我？",  # 顾 is a surname, 顾客 a customer
    "服务态度很好，谢谢那位先生",  # 位 is a measure word, not a surname
    "我打了另外的号码，一位女士接的",
    "找客服解决，客服都没人管",
    "Unit 4 of the app keeps crashing",
    "Page 2 Street view does not load",
    "version 12 Road map feature is broken",
]


@pytest.mark.parametrize("text", KEPT)
def test_words_that_only_look_like_names_or_addresses_are_kept(text: str) -> None:
    assert redact_pii(text) == (text, [])


def test_the_gazetteer_has_given_names_of_every_language_and_no_everyday_words() -> None:
    given, zh_surnames = gazetteer()
    assert {"anna", "michael", "klaus", "linnea", "иван", "joão", "lucía", "amélie"} <= given
    assert not given & AMBIGUOUS_GIVEN_NAMES
    assert {"王", "李", "张", "欧阳"} <= zh_surnames
    assert len(given) > 3000


def test_redacting_a_redacted_text_changes_nothing() -> None:
    text = "Mr Smith at 221B Baker Street wrote from anna(at)gmail(dot)com; 我叫张伟"
    once, kinds = redact_pii(text)
    assert set(kinds) == {"name", "address", "email"}
    assert redact_pii(once) == (once, [])
