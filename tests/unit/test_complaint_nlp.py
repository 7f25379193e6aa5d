"""Language detection, tokens, sentiment and the keyword classifier (PII redaction: test_privacy.py)."""

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import MODEL_CACHE

from cxpipe.complaints import (
    CAUSES,
    KeywordClassifier,
    TaxonomyError,
    analyse_texts,
    detect_language,
    load_taxonomy,
    sentiment_score,
    tokenize,
)
from cxpipe.settings import REPO_ROOT

SEEDS = REPO_ROOT / "dbt_project" / "seeds"


@pytest.fixture(scope="module")
def classifier() -> KeywordClassifier:
    return KeywordClassifier(load_taxonomy(SEEDS / "complaint_taxonomy.csv"))


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The wardrobe I ordered three weeks ago still has not arrived", "en"),
        ("快递太慢了，说好的送货时间又延迟了", "zh"),
        ("Шкаф привезли с царапинами, очень недоволен", "ru"),
        ("Die Lieferung kommt schon wieder zu spät", "de"),
        ("Leveransen är försenad och ingen svarar i telefon", "sv"),
    ],
)
def test_detects_each_language(text: str, language: str) -> None:
    detected, confidence = detect_language(text)
    assert detected == language
    assert 0.3 <= confidence <= 1


@pytest.mark.parametrize("text", ["", None, "12345 !!!", "   "])
def test_texts_without_letters_have_unknown_language(text: str | None) -> None:
    assert detect_language(text) == ("unknown", 0.0)


def test_tokenize_segments_chinese_and_stems_the_others() -> None:
    assert "划痕" in tokenize("收到的桌子有划痕", "zh")
    assert tokenize("Deliveries delayed", "en") == ["deliveri", "delay"]
    assert tokenize("Задержка доставки", "ru") == ["задержк", "доставк"]
    assert tokenize("Lieferungen", "de") == tokenize("Lieferung", "de")


@pytest.mark.parametrize(
    ("text", "language", "sign"),
    [
        ("Terrible service, I am furious", "en", -1),
        ("Great service, thank you!", "en", 1),
        ("店员态度很差，太失望了", "zh", -1),
        ("服务很好，非常满意", "zh", 1),
        ("Ужасный сервис, очень недоволен", "ru", -1),
        ("Отличный сервис, спасибо", "ru", 1),
        ("Schlechter Service, sehr enttäuscht", "de", -1),
        ("Tack, mycket nöjd", "sv", 1),
    ],
)
def test_sentiment_has_the_right_sign_in_each_language(text: str, language: str, sign: int) -> None:
    score = sentiment_score(text, language)
    assert score is not None
    assert score * sign > 0.2
    assert -1 <= score <= 1


def test_negation_flips_a_lexicon_word() -> None:
    happy = sentiment_score("доволен", "ru")
    unhappy = sentiment_score("не доволен", "ru")
    assert happy is not None and unhappy is not None
    assert happy > 0 > unhappy


def test_empty_text_has_no_sentiment() -> None:
    assert sentiment_score("  ", "en") is None


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("my delivery is late again", "late_delivery"),
        ("the glass top arrived cracked", "damaged"),
        ("screws were missing from the bag", "missing_parts"),
        ("the instructions make no sense, assembly took 6 hours", "assembly"),
        ("sold out right after I paid", "stock_out"),
        ("I was charged twice", "price_billing"),
        ("the cashier was rude to me", "staff"),
        ("still waiting for my refund", "returns_refunds"),
        ("the app crashes at checkout", "website_app"),
        ("the sofa fabric is peeling, poor quality", "product_quality"),
        ("customer service never called back", "communication"),
        ("说好的送货时间延迟了三天", "late_delivery"),
        ("玻璃碎了，包装破损", "damaged"),
        ("少了两个螺丝", "missing_parts"),
        ("说明书看不懂，装不上", "assembly"),
        ("到店才说缺货", "stock_out"),
        ("重复扣款", "price_billing"),
        ("店员态度很差", "staff"),
        ("退款一直没到账", "returns_refunds"),
        ("官网一直报错", "website_app"),
        ("做工很差，有异味", "product_quality"),
        ("客服电话打不通", "communication"),
        ("доставка опоздала на неделю", "late_delivery"),
        ("стекло разбито", "damaged"),
        ("не хватает винтов", "missing_parts"),
        ("инструкция по сборке непонятная", "assembly"),
        ("товара нет в наличии", "stock_out"),
        ("списали деньги дважды", "price_billing"),
        ("продавец нахамил", "staff"),
        ("возврат денег уже месяц", "returns_refunds"),
        ("приложение вылетает", "website_app"),
        ("ужасное качество, брак", "product_quality"),
        ("поддержка не отвечает", "communication"),
        ("Der Schrank kam beschädigt an", "damaged"),
        ("Skruvar saknas i paketet", "missing_parts"),
    ],
)
def test_classifies_each_cause_in_each_language(classifier: KeywordClassifier, text: str, cause: str) -> None:
    result = classifier.classify(text)
    assert result.root_cause == cause
    assert result.method == "keywords"
    assert 0 < result.confidence <= 1
    assert result.evidence.startswith(f"{cause}: ")


def test_every_cause_has_keywords_in_english_chinese_and_russian() -> None:
    rows = load_taxonomy(SEEDS / "complaint_taxonomy.csv")
    present = {(r["root_cause"], r["language"]) for r in rows}
    for cause in CAUSES:
        if cause == "other":
            continue
        for language in ("en", "zh", "ru"):
            assert (cause, language) in present, (cause, language)


def test_secondary_cause_and_evidence_list_both_causes(classifier: KeywordClassifier) -> None:
    result = classifier.classify("The table arrived damaged and customer service never called back")
    assert {result.root_cause, result.secondary_cause} == {"damaged", "communication"}
    assert "damaged: damaged" in result.evidence
    assert "communication: " in result.evidence
    assert result.confidence < classifier.classify("The table arrived damaged").confidence


def test_no_keyword_gives_other_with_zero_confidence(classifier: KeywordClassifier) -> None:
    result = classifier.classify("hmm.")
    assert (result.root_cause, result.secondary_cause, result.confidence, result.method) == ("other", None, 0.0, "none")


def test_prefix_and_regex_keywords() -> None:
    clf = KeywordClassifier(
        [
            {"root_cause": "late_delivery", "language": "ru", "keyword": "задерж*"},
            {"root_cause": "price_billing", "language": "en", "keyword": r"re:\b\d+ ?(sek|eur)\b"},
        ]
    )
    assert clf.classify("задержали заказ").root_cause == "late_delivery"
    assert clf.classify("paid 200 SEK extra").root_cause == "price_billing"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"root_cause": "late", "language": "xx", "keyword": "late"}, "row 2, column language"),
        ({"root_cause": "Late Delivery", "language": "en", "keyword": "late"}, "row 2, column root_cause"),
        ({"root_cause": "other", "language": "en", "keyword": "late"}, "row 2, column root_cause"),
        ({"root_cause": "late", "language": "en", "keyword": ""}, "row 2, column keyword"),
        ({"root_cause": "late", "language": "en", "keyword": "re:(("}, "row 2, column keyword"),
        ({"root_cause": "late", "language": "en", "keyword": "late", "weight": "heavy"}, "row 2, column weight"),
    ],
)
def test_bad_taxonomy_rows_name_row_and_column(row: dict[str, str], message: str) -> None:
    with pytest.raises(TaxonomyError, match=message):
        KeywordClassifier([row], source="complaint_taxonomy.csv")


def test_analyse_texts_returns_redacted_text_and_never_the_raw_text() -> None:
    frame = pd.DataFrame(
        {
            "complaint_id": ["a", "b", "c"],
            "complaint_text": ["Charged twice, call me at +46 70 123 45 67", "店员态度很差", None],
        }
    )
    rows = load_taxonomy(SEEDS / "complaint_taxonomy.csv")
    out = analyse_texts(frame, rows, cache_dir=MODEL_CACHE).set_index("complaint_id")
    assert "complaint_text" not in out.columns
    assert out.loc["a", "redacted_text"] == "Charged twice, call me at [PHONE]"
    assert out.loc["a", "pii_found"] == "phone"
    assert list(out["pii_remaining"]) == ["", "", ""]  # nothing the definition of PII finds is left
    assert out.loc["a", "root_cause"] == "price_billing"
    assert out.loc["b", "language"] == "zh"
    assert out.loc["b", "sentiment"] < 0
    assert out.loc["c", "root_cause"] == "other"
    assert out.loc["c", "language"] == "unknown"


def test_pii_remaining_reports_what_redaction_let_through(monkeypatch: pytest.MonkeyPatch) -> None:
    """The column the dbt test assert_complaints_have_no_raw_pii checks: find_pii on the redacted text."""
    import cxpipe.complaints.pipeline as pipeline

    def keep_cards(text: str) -> tuple[str, list[str]]:  # a redaction that forgot cards
        return text.replace("a@b.se", "[EMAIL]"), ["email"]

    monkeypatch.setattr(pipeline, "redact_pii", keep_cards)
    frame = pd.DataFrame(
        {
            "complaint_id": ["a", "b"],
            "complaint_text": ["card 4111 1111 1111 1111, mail a@b.se", "parcel BR123456789BR, paid {$110000.00}"],
        }
    )
    out = analyse_texts(
        frame, [{"root_cause": "staff", "language": "en", "keyword": "rude"}], cache_dir=MODEL_CACHE
    ).set_index("complaint_id")
    assert out.loc["a", "pii_remaining"] == "card"
    assert out.loc["b", "pii_remaining"] == ""  # tracking codes and amounts are not PII


@pytest.mark.parametrize("texts", [[], ["hmm"]])
def test_analyse_texts_columns_have_warehouse_types_even_when_empty_or_null(texts: list[str]) -> None:
    frame = pd.DataFrame({"complaint_id": [str(i) for i in range(len(texts))], "complaint_text": texts})
    out = analyse_texts(frame, [{"root_cause": "staff", "language": "en", "keyword": "rude"}], cache_dir=MODEL_CACHE)
    with duckdb.connect() as con:
        con.register("out", out)
        types = dict(con.execute("select column_name, column_type from (describe select * from out)").fetchall())
    assert types["secondary_cause"] == "VARCHAR"
    assert types["complaint_id"] == "VARCHAR"
    assert types["sentiment"] == "DOUBLE"
    assert types["pii_remaining"] == "VARCHAR"


def test_analyse_texts_names_a_missing_column() -> None:
    with pytest.raises(KeyError, match="complaint_text"):
        analyse_texts(pd.DataFrame({"complaint_id": []}), [{"root_cause": "x", "language": "en", "keyword": "y"}])


def test_taxonomy_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("root_cause,language,keyword,weight\nstaff,en,rude,2\n", encoding="utf-8")
    clf = KeywordClassifier(load_taxonomy(path))
    assert clf.classify("so rude").confidence == round(1 - 2.718281828459045**-2, 3)


def test_a_passage_in_another_script_is_read_in_that_scripts_language(classifier: KeywordClassifier) -> None:
    mixed = "Charged twice for one order! заказ так и не привезли"
    for language in ("en", "ru"):  # whichever the text is detected as, both passages count
        scores, _ = classifier.scores(mixed, language)
        assert {"price_billing", "late_delivery"} <= set(scores), (language, scores)
    # Latin-script languages stay apart: the English text is not read with the Swedish keywords
    english = "the package arrived late"
    assert classifier.scores(english, "en")[0].keys() == classifier.scores(english + " ", "en")[0].keys()
    swedish_only = {kw.text for kw in classifier.keywords if kw.language == "sv"}
    _, evidence = classifier.scores(english, "en")
    assert not {word for words in evidence.values() for word in words} & swedish_only
