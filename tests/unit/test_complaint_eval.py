"""The labelled evaluation set and the classifier's measured accuracy on it (see docs/complaints.md)."""

from pathlib import Path

import pytest

from cxpipe.complaints import CAUSES, KeywordClassifier, load_taxonomy
from cxpipe.complaints.classify import Classification
from cxpipe.complaints.evaluate import load_eval_set, markdown, score
from cxpipe.settings import REPO_ROOT

EVAL_PATH = REPO_ROOT / "tests" / "data" / "complaints_eval.csv"
TAXONOMY_PATH = REPO_ROOT / "dbt_project" / "seeds" / "complaint_taxonomy.csv"

#: macro-F1 per language reached by the committed taxonomy alone (docs/complaints.md). The
#: "test" split was never used to choose keywords; "all" is dev + test. Keywords apply to
#: their own language only since the learned model (test_complaint_model.py), which costs
#: mixed-language items ("app一直crash") a little, as does dropping keywords that misfire on
#: the corpus (没有, ничего, pieces). A change that lowers them fails here.
MACRO_F1_FLOOR = {
    "test": {"en": 0.76, "ru": 0.50, "zh": 0.43},
    "all": {"en": 0.85, "ru": 0.67, "zh": 0.70},
}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return load_eval_set(EVAL_PATH)


@pytest.fixture(scope="module")
def classifier() -> KeywordClassifier:
    return KeywordClassifier(load_taxonomy(TAXONOMY_PATH))


def test_eval_set_has_at_least_300_complaints_over_three_languages(rows: list[dict[str, str]]) -> None:
    assert len(rows) >= 300
    assert {r["language"] for r in rows} == {"en", "zh", "ru"}
    assert len({r["eval_id"] for r in rows}) == len(rows)
    assert {r["root_cause"] for r in rows} == set(CAUSES)
    assert {r["split"] for r in rows} == {"dev", "test"}
    for language in ("en", "zh", "ru"):
        labelled = [r for r in rows if r["language"] == language]
        assert len(labelled) >= 100
        assert {r["root_cause"] for r in labelled} == set(CAUSES)


@pytest.mark.parametrize("split", ["test", "all"])
def test_macro_f1_per_language_does_not_drop(
    rows: list[dict[str, str]], classifier: KeywordClassifier, split: str
) -> None:
    scores = score(rows, classifier, None if split == "all" else split)
    reached = {language: round(s.macro_f1, 3) for language, s in scores.items()}
    floor = MACRO_F1_FLOOR[split]
    assert set(reached) == set(floor)
    assert all(reached[lang] >= floor[lang] for lang in floor), (split, reached, floor)


def test_language_detection_on_the_eval_set(rows: list[dict[str, str]], classifier: KeywordClassifier) -> None:
    scores = score(rows, classifier)
    detected = {language: s.language_detected for language, s in scores.items()}
    assert all(share >= 0.97 for share in detected.values()), detected


#: Share of the (all negative) labelled complaints whose sentiment is below 0, as reached.
NEGATIVE_SENTIMENT_FLOOR = {"en": 0.33, "zh": 0.46, "ru": 0.34}


def test_sentiment_reads_complaints_as_negative(rows: list[dict[str, str]], classifier: KeywordClassifier) -> None:
    scores = score(rows, classifier)
    negative = {language: round(s.negative_sentiment, 3) for language, s in scores.items()}
    assert all(negative[lang] >= NEGATIVE_SENTIMENT_FLOOR[lang] for lang in negative), negative
    assert all(s.positive_sentiment <= 0.15 for s in scores.values())


class _Always:
    def __init__(self, cause: str) -> None:
        self.cause = cause

    def classify(self, text: str | None) -> Classification:
        return Classification(self.cause, None, 1.0, "constant", "constant")


def test_scores_are_computed_from_predictions() -> None:
    rows = [
        {"eval_id": "1", "language": "en", "text": "a", "root_cause": "staff", "split": "dev"},
        {"eval_id": "2", "language": "en", "text": "b", "root_cause": "staff", "split": "dev"},
        {"eval_id": "3", "language": "en", "text": "c", "root_cause": "damaged", "split": "test"},
    ]
    en = score(rows, _Always("staff"))["en"]
    by_cause = {c.cause: c for c in en.causes}
    assert by_cause["staff"].precision == pytest.approx(2 / 3)
    assert by_cause["staff"].recall == 1.0
    assert by_cause["damaged"].recall == 0.0
    assert en.macro_f1 == pytest.approx((0.8 + 0.0) / 2)
    assert en.accuracy == pytest.approx(2 / 3)
    assert score(rows, _Always("staff"), "test")["en"].accuracy == 0.0
    assert "| staff | 2 | 0.67 | 1.00 | 0.80 |" in markdown({"en": en})


def test_a_malformed_eval_file_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text("eval_id,language,text,root_cause,split\n1,en,late again,,dev\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 2, column root_cause"):
        load_eval_set(path)
    (tmp_path / "bad.csv").write_text("id,text\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        load_eval_set(tmp_path / "bad.csv")


def test_eval_file_is_the_committed_one() -> None:
    assert EVAL_PATH.relative_to(Path(__file__).parents[1]) == Path("data/complaints_eval.csv")
