"""Stratified cross-validation of the root-cause model on the project corpus' ``train`` split only.

How every root-cause candidate in docs/complaints.md ("What was tried") is scored: the train rows are split
into ``folds`` folds stratified by language x cause, the model (:class:`cxpipe.complaints.model.CauseModel`,
as the pipeline trains it) is fitted on the other folds and predicts each fold; macro-F1 per language is
averaged over ``repeats`` shuffles. Rows of the ``test`` split are refused, so the held-out figures stay
unread while a change is chosen.

``extra_rows`` (e.g. candidate train texts) are added to the training folds only: every figure is measured
on the same corpus rows with and without them, so the two are comparable.

Run ``python -m cxpipe.complaints.crossval [--extra CSV] [--margin 0.1] [--repeats 2] [--per-class 10]``;
``--per-class N`` also prints the F1 of every cause per language and its N most frequent confusions.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from cxpipe.complaints.classify import FALLBACK_CAUSE, KeywordClassifier, load_taxonomy
from cxpipe.complaints.corpora import PROJECT_CORPUS_DIR, load_project_corpus
from cxpipe.complaints.evaluate import macro_f1
from cxpipe.complaints.model import OTHER_MARGIN, CauseModel, cause_decision
from cxpipe.settings import REPO_ROOT

TAXONOMY_PATH = REPO_ROOT / "dbt_project" / "seeds" / "complaint_taxonomy.csv"


@dataclass(frozen=True)
class CrossValidation:
    """Per language, averaged over the repeats."""

    macro_f1: dict[str, float]
    other_share: dict[str, float]  # share of real complaints (label != other) predicted as other
    items: dict[str, int]
    repeats: int
    class_f1: dict[str, dict[str, float]]  # language -> cause -> F1
    confusions: dict[str, dict[tuple[str, str], float]]  # language -> (labelled, predicted) -> texts per repeat


def class_f1(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """F1 of every class labelled or predicted (the terms :func:`macro_f1` averages)."""
    scores = {}
    for c in sorted(set(gold) | set(predicted)):
        tp = sum(g == p == c for g, p in zip(gold, predicted, strict=True))
        support, guessed = list(gold).count(c), list(predicted).count(c)
        scores[c] = 2 * tp / (support + guessed)
    return scores


def _decide(probabilities: np.ndarray, classes: Sequence[str], margin: float) -> list[str]:
    """The most probable cause; ``other`` only when it leads the best real cause by ``margin`` (as
    :meth:`CauseModel.predict`)."""
    return [classes[i] for i in cause_decision(probabilities, classes, margin).argmax(axis=1)]


def predictions(
    rows: Sequence[Mapping[str, str]],
    taxonomy: Sequence[Mapping[str, object]],
    seed: int = 0,
    folds: int = 5,
    extra_rows: Sequence[Mapping[str, str]] = (),
    margin: float = OTHER_MARGIN,
) -> list[str]:
    """The out-of-fold root cause of every row (``language, text, root_cause``; no ``test`` rows)."""
    held_out = [i for i, r in enumerate(rows) if r.get("split") == "test"]
    if held_out:
        raise ValueError(f"cross-validation reads the train split only; {len(held_out)} row(s) are split 'test'")
    texts = [r["text"] for r in rows]
    languages = [r["language"] for r in rows]
    causes = [r["root_cause"] for r in rows]
    strata = [f"{lang}\0{cause}" for lang, cause in zip(languages, causes, strict=True)]
    predicted = [""] * len(rows)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train, test in splitter.split(texts, strata):
        model = CauseModel(KeywordClassifier(taxonomy)).fit(
            [texts[i] for i in train] + [r["text"] for r in extra_rows],
            [languages[i] for i in train] + [r["language"] for r in extra_rows],
            [causes[i] for i in train] + [r["root_cause"] for r in extra_rows],
        )
        probabilities = model.probabilities([texts[i] for i in test], [languages[i] for i in test])
        for i, cause in zip(test, _decide(probabilities, model.classes, margin), strict=True):
            predicted[i] = cause
    return predicted


def cross_validate(
    rows: Sequence[Mapping[str, str]],
    taxonomy: Sequence[Mapping[str, object]],
    repeats: int = 2,
    folds: int = 5,
    extra_rows: Sequence[Mapping[str, str]] = (),
    margin: float = OTHER_MARGIN,
) -> CrossValidation:
    """Macro-F1 and the share of real complaints read as ``other``, per language, over ``repeats`` shuffles
    (seeds 0 .. repeats - 1)."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, not {repeats}")
    languages = sorted({r["language"] for r in rows})
    f1: dict[str, list[float]] = {lang: [] for lang in languages}
    other: dict[str, list[float]] = {lang: [] for lang in languages}
    per_class: dict[str, list[dict[str, float]]] = {lang: [] for lang in languages}
    confused: dict[str, Counter[tuple[str, str]]] = {lang: Counter() for lang in languages}
    for seed in range(repeats):
        predicted = predictions(rows, taxonomy, seed, folds, extra_rows, margin)
        for lang in languages:
            mine = [(r["root_cause"], p) for r, p in zip(rows, predicted, strict=True) if r["language"] == lang]
            f1[lang].append(macro_f1([g for g, _ in mine], [p for _, p in mine]))
            per_class[lang].append(class_f1([g for g, _ in mine], [p for _, p in mine]))
            confused[lang].update((g, p) for g, p in mine if g != p)
            real = [p for g, p in mine if g != FALLBACK_CAUSE]
            other[lang].append(sum(p == FALLBACK_CAUSE for p in real) / len(real) if real else 0.0)
    return CrossValidation(
        macro_f1={lang: float(np.mean(v)) for lang, v in f1.items()},
        other_share={lang: float(np.mean(v)) for lang, v in other.items()},
        items={lang: sum(r["language"] == lang for r in rows) for lang in languages},
        repeats=repeats,
        class_f1={
            lang: {c: float(np.mean([run.get(c, 0.0) for run in runs])) for c in sorted(set().union(*runs))}
            for lang, runs in per_class.items()
        },
        confusions={lang: {pair: n / repeats for pair, n in counts.items()} for lang, counts in confused.items()},
    )


def train_rows(corpus_dir: Path = PROJECT_CORPUS_DIR) -> list[dict[str, str]]:
    """The corpus' ``train`` rows (the ``test`` rows are not returned)."""
    return [r for r in load_project_corpus(corpus_dir) if r["split"] == "train"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=PROJECT_CORPUS_DIR, help="directory of complaints_*.csv")
    parser.add_argument("--extra", type=Path, help="directory of complaints_*.csv whose rows train every fold")
    parser.add_argument("--taxonomy", type=Path, default=TAXONOMY_PATH)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--margin", type=float, default=OTHER_MARGIN, help="the `other` margin (OTHER_MARGIN)")
    parser.add_argument(
        "--per-class",
        type=int,
        metavar="PAIRS",
        default=0,
        help="also print each language's F1 per cause and its PAIRS most frequent confusions",
    )
    args = parser.parse_args(argv)
    extra = load_project_corpus(args.extra) if args.extra else []
    result = cross_validate(
        train_rows(args.corpus), load_taxonomy(args.taxonomy), args.repeats, args.folds, extra, args.margin
    )
    print(f"| language | train texts | macro-F1 ({args.folds}-fold, {result.repeats} repeats) | complaints -> other |")
    print("|---|---:|---:|---:|")
    for lang, value in result.macro_f1.items():
        print(f"| {lang} | {result.items[lang]} | {value:.3f} | {result.other_share[lang]:.3f} |")
    if args.per_class > 0:
        causes = sorted(set().union(*result.class_f1.values()))
        print()
        print("| cause | " + " | ".join(result.class_f1) + " |")
        print("|---|" + "---:|" * len(result.class_f1))
        for cause in causes:
            cells = " | ".join(f"{scores.get(cause, 0.0):.3f}" for scores in result.class_f1.values())
            print(f"| {cause} | {cells} |")
        for lang, pairs in result.confusions.items():
            top = sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[: args.per_class]
            print()
            print(f"{lang}, confusions per repeat (labelled -> predicted):")
            for (gold, guess), n in top:
                print(f"  {gold} -> {guess}: {n:.1f}")


if __name__ == "__main__":
    main()
