"""Cross-validation of the root-cause model on the train split (cxpipe.complaints.crossval)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_small_corpus

from cxpipe.complaints import load_taxonomy
from cxpipe.complaints.crossval import class_f1, cross_validate, main, predictions, train_rows
from cxpipe.complaints.evaluate import macro_f1
from cxpipe.settings import REPO_ROOT

TAXONOMY = load_taxonomy(REPO_ROOT / "dbt_project" / "seeds" / "complaint_taxonomy.csv")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_corpus(tmp_path_factory.mktemp("corpus"), per_language=60)


@pytest.fixture(scope="module")
def rows(corpus: Path) -> list[dict[str, str]]:
    return train_rows(corpus)


def test_test_rows_are_refused(rows: list[dict[str, str]]) -> None:
    leaked = [*rows, {**rows[0], "split": "test"}]
    with pytest.raises(ValueError, match="train split only; 1 row"):
        predictions(leaked, TAXONOMY, folds=3)
    with pytest.raises(ValueError, match="repeats"):
        cross_validate(rows, TAXONOMY, repeats=0)


def test_train_rows_leave_the_test_split_out() -> None:
    rows = train_rows()
    assert rows and {r["split"] for r in rows} == {"train"}


def test_figures_per_language_are_deterministic(rows: list[dict[str, str]]) -> None:
    first = cross_validate(rows, TAXONOMY, repeats=1, folds=3)
    assert first.items == {"en": 60, "ru": 60, "zh": 60}
    assert all(0 < value <= 1 for value in first.macro_f1.values())
    assert first == cross_validate(rows, TAXONOMY, repeats=1, folds=3)
    # another shuffle gives other folds
    assert predictions(rows, TAXONOMY, seed=0, folds=3) != predictions(rows, TAXONOMY, seed=1, folds=3)


def test_the_other_margin_decides_as_the_model_does(rows: list[dict[str, str]]) -> None:
    never = cross_validate(rows, TAXONOMY, repeats=1, folds=3, margin=1.0)  # a lead of 1 is impossible
    always = cross_validate(rows, TAXONOMY, repeats=1, folds=3, margin=-1.0)
    assert never.other_share == {"en": 0.0, "ru": 0.0, "zh": 0.0}
    assert always.other_share == {"en": 1.0, "ru": 1.0, "zh": 1.0}


def test_extra_rows_train_every_fold_and_are_not_scored(rows: list[dict[str, str]]) -> None:
    plain = cross_validate(rows, TAXONOMY, repeats=1, folds=3)
    # the scored rows themselves as extra training rows: each fold has seen its texts, scores rise
    seen = cross_validate(rows, TAXONOMY, repeats=1, folds=3, extra_rows=rows)
    assert seen.items == plain.items
    for language in plain.macro_f1:
        assert seen.macro_f1[language] > plain.macro_f1[language] + 0.1, (plain, seen)


def test_command_prints_a_table(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--corpus", str(corpus), "--extra", str(corpus), "--repeats", "1", "--folds", "3"])
    out = capsys.readouterr().out
    assert "| en | 60 |" in out and "| zh | 60 |" in out and "3-fold, 1 repeats" in out


def test_class_f1_are_the_terms_of_macro_f1() -> None:
    gold = ["a", "a", "b", "b", "c"]
    guess = ["a", "b", "b", "b", "a"]
    scores = class_f1(gold, guess)
    assert scores == pytest.approx({"a": 0.5, "b": 0.8, "c": 0.0})
    assert macro_f1(gold, guess) == pytest.approx(sum(scores.values()) / 3)


def test_per_class_figures_and_confusions(rows: list[dict[str, str]]) -> None:
    result = cross_validate(rows, TAXONOMY, repeats=2, folds=3)
    for language, scores in result.class_f1.items():
        assert set(scores) == {r["root_cause"] for r in rows if r["language"] == language}
        assert sum(scores.values()) / len(scores) == pytest.approx(result.macro_f1[language])
    # the confusions per repeat are the mistakes: one repeat's count is the wrong predictions of that shuffle
    one = cross_validate(rows, TAXONOMY, repeats=1, folds=3)
    predicted = predictions(rows, TAXONOMY, seed=0, folds=3)
    for language, pairs in one.confusions.items():
        wrong = [
            (r["root_cause"], p)
            for r, p in zip(rows, predicted, strict=True)
            if r["language"] == language and r["root_cause"] != p
        ]
        assert pairs == {pair: float(wrong.count(pair)) for pair in set(wrong)}
        assert all(gold != guess for gold, guess in pairs)


def test_command_prints_per_class_figures(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["--corpus", str(corpus), "--repeats", "1", "--folds", "3", "--per-class", "2"])
    out = capsys.readouterr().out
    assert "| cause | en | ru | zh |" in out
    assert "| late_delivery |" in out
    assert "zh, confusions per repeat (labelled -> predicted):" in out
    listed = [line for line in out.splitlines() if line.startswith("  ") and " -> " in line]
    assert 0 < len(listed) <= 6
    main(["--corpus", str(corpus), "--repeats", "1", "--folds", "3"])
    assert "| cause |" not in capsys.readouterr().out
