"""Labelled texts the learned models train on and are measured with.

* The project's own corpus, ``corpus/complaints_<language>.csv`` beside this module:
  ``text_id, language, text, root_cause, sentiment, split, style``. ``split`` is ``train``
  or ``test``; the ``test`` rows are held out: nothing trains or is tuned on them.
  A new language is a new file (or new rows) here.
* Public sentiment corpora, read from a directory outside the repository (by default
  ``../shared/corpora/`` beside the repository) when present and never copied into it:
  ``waimai_10k.csv`` (zh food-delivery reviews, positive/negative) and
  ``sentirueval_banks_2016_test_etalon.xml`` (ru bank tweets, -1/0/1). They have no
  split of their own; :func:`held_out` puts 30 % of their texts in ``test`` by a hash of
  the text, so the split is the same on every machine and in every run.
"""

from __future__ import annotations

import csv
import hashlib
import xml.etree.ElementTree as ET
from pathlib import Path

from cxpipe.settings import REPO_ROOT

PROJECT_CORPUS_DIR = Path(__file__).with_name("corpus")
#: Where the public corpora are looked for unless a caller names another directory.
SHARED_CORPORA_DIR = REPO_ROOT.parent / "shared" / "corpora"
WAIMAI_FILE = "waimai_10k.csv"
SENTIRUEVAL_FILE = "sentirueval_banks_2016_test_etalon.xml"
CORPUS_COLUMNS = ("text_id", "language", "text", "root_cause", "sentiment", "split", "style")
SENTIMENTS = ("negative", "neutral", "positive")
#: Share of a public corpus held out for measuring.
HELD_OUT_SHARE = 0.3


def held_out(text: str, share: float = HELD_OUT_SHARE) -> bool:
    """Whether ``text`` belongs to the held-out part of a corpus without a split (stable hash)."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def load_project_corpus(directory: Path = PROJECT_CORPUS_DIR) -> list[dict[str, str]]:
    """Every row of ``complaints_*.csv`` in ``directory``; a malformed row raises naming file, line and column."""
    rows: list[dict[str, str]] = []
    for path in sorted(directory.glob("complaints_*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in CORPUS_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
            for line, row in enumerate(reader, start=2):
                for column in ("text_id", "language", "text", "root_cause", "split"):
                    if not (row.get(column) or "").strip():
                        raise ValueError(f"{path} line {line}, column {column}: empty; fill it in or remove the row")
                if row["split"] not in ("train", "test"):
                    raise ValueError(f"{path} line {line}, column split: {row['split']!r} is not train or test")
                if row.get("sentiment") and row["sentiment"] not in SENTIMENTS:
                    raise ValueError(f"{path} line {line}, column sentiment: {row['sentiment']!r} not in {SENTIMENTS}")
                rows.append({c: row.get(c) or "" for c in CORPUS_COLUMNS})
    return rows


def load_waimai(path: Path) -> list[dict[str, str]]:
    """waimai_10k.csv as sentiment rows (``language, text, sentiment, split, source``)."""
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            text = (row.get("review") or "").strip()
            if text and row.get("label") in ("0", "1"):
                sentiment = "positive" if row["label"] == "1" else "negative"
                out.append(_sentiment_row("zh", text, sentiment, "waimai_10k"))
    return out


def load_sentirueval(path: Path) -> list[dict[str, str]]:
    """SentiRuEval-2016 bank tweets as sentiment rows; a tweet whose banks disagree is left out."""
    banks = ("sberbank", "vtb", "gazprom", "alfabank", "bankmoskvy", "raiffeisen", "uralsib", "rshb")
    names = {"-1": "negative", "0": "neutral", "1": "positive"}
    out = []
    for table in ET.parse(path).getroot().iter("table"):
        values = {col.get("name"): (col.text or "").strip() for col in table.iter("column")}
        labels = {values[b] for b in banks if values.get(b) and values[b] != "NULL"}
        text = values.get("text") or ""
        if text and len(labels) == 1 and (label := labels.pop()) in names:
            out.append(_sentiment_row("ru", text, names[label], "sentirueval_banks_2016"))
    return out


def _sentiment_row(language: str, text: str, sentiment: str, source: str) -> dict[str, str]:
    return {
        "language": language,
        "text": text,
        "sentiment": sentiment,
        "split": "test" if held_out(text) else "train",
        "source": source,
    }


def public_sentiment_rows(directory: Path | None = SHARED_CORPORA_DIR) -> list[dict[str, str]]:
    """Sentiment rows of the public corpora found in ``directory`` (none when it or they are absent)."""
    if directory is None or not directory.is_dir():
        return []
    rows: list[dict[str, str]] = []
    if (directory / WAIMAI_FILE).is_file():
        rows += load_waimai(directory / WAIMAI_FILE)
    if (directory / SENTIRUEVAL_FILE).is_file():
        rows += load_sentirueval(directory / SENTIRUEVAL_FILE)
    return rows
