"""Measure a complaint classifier on the labelled evaluation set (tests/data/complaints_eval.csv).

Run ``python -m cxpipe.complaints.evaluate`` to print per-language, per-cause
precision, recall and F1 and the macro-F1 per language (markdown). Any object with a
``classify(text) -> Classification`` method can be measured, so a better model is
compared with the keyword classifier on the same texts.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cxpipe.complaints.classify import Classification, KeywordClassifier, load_taxonomy
from cxpipe.complaints.sentiment import sentiment_score
from cxpipe.complaints.text import detect_language

EVAL_COLUMNS = ("eval_id", "language", "text", "root_cause", "split")


class Classifier(Protocol):
    def classify(self, text: str | None) -> Classification: ...


@dataclass(frozen=True)
class CauseScore:
    cause: str
    support: int
    predicted: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.support if self.support else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class LanguageScore:
    language: str
    items: int
    accuracy: float
    macro_f1: float
    language_detected: float
    negative_sentiment: float
    positive_sentiment: float
    causes: tuple[CauseScore, ...]


def load_eval_set(path: Path) -> list[dict[str, str]]:
    """The labelled complaints; a malformed row raises naming its line and column."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in EVAL_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(EVAL_COLUMNS)}")
        rows = list(reader)
    for line, row in enumerate(rows, start=2):
        for column in EVAL_COLUMNS:
            if not (row.get(column) or "").strip():
                raise ValueError(f"{path} line {line}, column {column}: empty; fill it in or remove the row")
    return rows


def score(
    rows: Sequence[Mapping[str, str]], classifier: Classifier, split: str | None = None
) -> dict[str, LanguageScore]:
    """Per language: accuracy, macro-F1 over the causes labelled in that language, and per-cause scores.

    Macro-F1 averages F1 over every cause that is labelled or predicted in the language,
    so a cause the classifier invents (predicted, never labelled) counts as an F1 of 0.
    """
    selected = [r for r in rows if split is None or r["split"] == split]
    out: dict[str, LanguageScore] = {}
    for language in sorted({r["language"] for r in selected}):
        items = [r for r in selected if r["language"] == language]
        gold = [r["root_cause"] for r in items]
        predicted = [classifier.classify(r["text"]).root_cause for r in items]
        detected = sum(detect_language(r["text"])[0] == language for r in items)
        sentiments = [sentiment_score(r["text"], language) or 0.0 for r in items]
        causes = sorted(set(gold) | set(predicted))
        per_cause = tuple(
            CauseScore(
                cause=c,
                support=gold.count(c),
                predicted=predicted.count(c),
                true_positives=sum(g == p == c for g, p in zip(gold, predicted, strict=True)),
            )
            for c in causes
        )
        out[language] = LanguageScore(
            language=language,
            items=len(items),
            accuracy=sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(items),
            macro_f1=sum(c.f1 for c in per_cause) / len(per_cause),
            language_detected=detected / len(items),
            negative_sentiment=sum(v < 0 for v in sentiments) / len(items),
            positive_sentiment=sum(v > 0 for v in sentiments) / len(items),
            causes=per_cause,
        )
    return out


def errors(rows: Iterable[Mapping[str, str]], classifier: Classifier) -> list[tuple[str, str, str, str]]:
    """(eval_id, label, prediction, text) of every misclassified complaint."""
    wrong = []
    for r in rows:
        predicted = classifier.classify(r["text"]).root_cause
        if predicted != r["root_cause"]:
            wrong.append((r["eval_id"], r["root_cause"], predicted, r["text"]))
    return wrong


def markdown(scores: Mapping[str, LanguageScore]) -> str:
    """The scores as markdown tables (as in docs/complaints.md)."""
    lines = [
        "| language | items | accuracy | macro-F1 | language detected | sentiment < 0 | sentiment > 0 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scores.values():
        lines.append(
            f"| {s.language} | {s.items} | {s.accuracy:.3f} | {s.macro_f1:.3f} | {s.language_detected:.3f} "
            f"| {s.negative_sentiment:.3f} | {s.positive_sentiment:.3f} |"
        )
    for s in scores.values():
        lines += ["", f"**{s.language}**", "", "| cause | support | precision | recall | F1 |"]
        lines.append("|---|---:|---:|---:|---:|")
        lines += [f"| {c.cause} | {c.support} | {c.precision:.2f} | {c.recall:.2f} | {c.f1:.2f} |" for c in s.causes]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--eval", type=Path, required=True, help="labelled CSV, e.g. tests/data/complaints_eval.csv")
    parser.add_argument(
        "--taxonomy", type=Path, required=True, help="taxonomy seed, e.g. dbt_project/seeds/complaint_taxonomy.csv"
    )
    parser.add_argument("--split", choices=("dev", "test"), help="score one split only")
    parser.add_argument("--errors", action="store_true", help="also list the misclassified complaints")
    args = parser.parse_args(argv)
    rows = load_eval_set(args.eval)
    classifier = KeywordClassifier(load_taxonomy(args.taxonomy))
    print(markdown(score(rows, classifier, args.split)))
    if args.errors:
        selected = [r for r in rows if args.split is None or r["split"] == args.split]
        for wrong in errors(selected, classifier):
            print(" | ".join(wrong))


if __name__ == "__main__":
    main()


# --- Held-out figures of the learned models (the project corpus' test split, the public corpora) ---


@dataclass(frozen=True)
class HeldOut:
    """Figures on texts no training or tuning looked at, per language."""

    cause_macro_f1: dict[str, float]
    keyword_macro_f1: dict[str, float]
    other_share: dict[str, float]  # share of real complaints (label != other) predicted as other
    sentiment_balanced_accuracy: dict[str, float]  # name -> figure, e.g. "zh waimai_10k (positive vs negative)"
    items: dict[str, int]


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over every class labelled or predicted (a class only predicted scores 0)."""
    classes = sorted(set(gold) | set(predicted))
    total = 0.0
    for c in classes:
        tp = sum(g == p == c for g, p in zip(gold, predicted, strict=True))
        support, guessed = list(gold).count(c), list(predicted).count(c)
        total += 2 * tp / (support + guessed) if support + guessed else 0.0
    return total / len(classes) if classes else 0.0


def balanced_accuracy(gold: Sequence[bool], predicted: Sequence[bool]) -> float:
    """Mean of the recall of the True class and of the False class."""
    recalls = []
    for value in (True, False):
        hits = [p == g for g, p in zip(gold, predicted, strict=True) if g == value]
        if hits:
            recalls.append(sum(hits) / len(hits))
    return sum(recalls) / len(recalls) if recalls else 0.0


def held_out_figures(
    taxonomy: Sequence[Mapping[str, object]],
    corpus_dir: Path | None = None,
    corpora_dir: Path | None = None,
    extra_cause_rows: Sequence[Mapping[str, str]] = (),
) -> HeldOut:
    """Train as the pipeline does (train split, plus ``extra_cause_rows``), measure on the held-out rows."""
    from cxpipe.complaints.corpora import PROJECT_CORPUS_DIR, load_project_corpus, public_sentiment_rows
    from cxpipe.complaints.model import fit_models
    from cxpipe.complaints.pipeline import training_rows
    from cxpipe.complaints.sentiment import sentiment_scores

    corpus_dir = corpus_dir or PROJECT_CORPUS_DIR
    cause_rows, sentiment_rows = training_rows(corpus_dir, corpora_dir)
    models = fit_models(taxonomy, [*cause_rows, *extra_cause_rows], sentiment_rows)
    keywords = KeywordClassifier(taxonomy)
    test = [r for r in load_project_corpus(corpus_dir) if r["split"] == "test"]
    f1: dict[str, float] = {}
    keyword_f1: dict[str, float] = {}
    other: dict[str, float] = {}
    balanced: dict[str, float] = {}
    items: dict[str, int] = {}
    for language in sorted({r["language"] for r in test}):
        rows = [r for r in test if r["language"] == language]
        texts, gold = [r["text"] for r in rows], [r["root_cause"] for r in rows]
        predicted = [p.root_cause for p in models.causes.predict(texts, [language] * len(texts))]
        f1[language] = round(macro_f1(gold, predicted), 3)
        keyword_f1[language] = round(macro_f1(gold, [keywords.classify(t, language).root_cause for t in texts]), 3)
        real = [p for g, p in zip(gold, predicted, strict=True) if g != "other"]
        other[language] = round(sum(p == "other" for p in real) / len(real), 3) if real else 0.0
        items[language] = len(rows)
        scores = sentiment_scores(texts, [language] * len(texts), models.sentiment)
        labelled = [(r["sentiment"], s) for r, s in zip(rows, scores, strict=True) if r["sentiment"] and s is not None]
        balanced[f"{language} project corpus (negative vs not)"] = round(
            balanced_accuracy([g == "negative" for g, _ in labelled], [s < 0 for _, s in labelled]), 3
        )
    public = [r for r in public_sentiment_rows(corpora_dir) if r["split"] == "test"]
    for source in sorted({r["source"] for r in public}):
        rows = [r for r in public if r["source"] == source]
        language = rows[0]["language"]
        texts = [r["text"] for r in rows]
        probabilities = models.sentiment.probabilities(texts, language)
        negative = probabilities["negative"]
        if {r["sentiment"] for r in rows} <= {"negative", "positive"}:  # positive vs negative
            positive = probabilities.get("positive", 1 - negative)
            gold_neg = [r["sentiment"] == "negative" for r in rows]
            balanced[f"{language} {source} (positive vs negative)"] = round(
                balanced_accuracy(gold_neg, list(negative > positive)), 3
            )
        else:  # negative vs not
            gold_neg = [r["sentiment"] == "negative" for r in rows]
            balanced[f"{language} {source} (negative vs not)"] = round(
                balanced_accuracy(gold_neg, list(negative >= 0.5)), 3
            )
    return HeldOut(f1, keyword_f1, other, balanced, items)


def held_out_markdown(figures: HeldOut) -> str:
    lines = [
        "| language | held-out items | root cause macro-F1 (model) | macro-F1 (keywords alone) | complaints → other |",
        "|---|---:|---:|---:|---:|",
    ]
    for language in figures.cause_macro_f1:
        lines.append(
            f"| {language} | {figures.items[language]} | {figures.cause_macro_f1[language]:.3f} "
            f"| {figures.keyword_macro_f1[language]:.3f} | {figures.other_share[language]:.3f} |"
        )
    lines += ["", "| sentiment, held out | balanced accuracy |", "|---|---:|"]
    lines += [f"| {name} | {value:.3f} |" for name, value in figures.sentiment_balanced_accuracy.items()]
    return "\n".join(lines)
