"""Incremental complaint text analysis: each complaint analysed once, each distinct text once, across builds.

The dbt model ``int_complaint_texts_nlp`` is incremental, keyed on the complaint. Each of its
rows carries ``text_hash`` (SHA-256 of the complaint's raw text) and ``analysis_key``
(:func:`analysis_key`: everything the analysis of a text depends on). A build analyses only the
candidates whose (complaint, text hash, analysis key) it does not hold yet, and of those only the
texts it has not analysed under the same key before; the others copy the earlier analysis of
the same text. A change of the model version, the taxonomy, the overrides (or their
complaints' texts), the training corpora, the analysis code or a library it uses changes the
key, and every candidate is analysed again (docs/decisions/0022-incremental-complaint-analysis.md).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import duckdb
import pandas as pd

from cxpipe.complaints.corpora import PROJECT_CORPUS_DIR, SHARED_CORPORA_DIR
from cxpipe.complaints.model import Models
from cxpipe.complaints.pipeline import NUMERIC_COLUMNS, OUTPUT_COLUMNS, analyse_texts, complaint_models

log = logging.getLogger(__name__)

#: The columns the incremental table holds beside :data:`~cxpipe.complaints.pipeline.OUTPUT_COLUMNS`.
KEY_COLUMNS = ("text_hash", "analysis_key")

#: Libraries whose version can change what a text is analysed to (language detection, tokens,
#: stems, keyword matching, sentiment, the fitted models' numbers).
LIBRARIES = (
    "lingua-language-detector",
    "jieba",
    "PyStemmer",
    "snowballstemmer",
    "pyahocorasick",
    "vaderSentiment",
    "scikit-learn",
    "numpy",
    "scipy",
)

_PACKAGE = Path(__file__).resolve().parent.parent
#: The code a text's analysis runs: the complaints package (with its lexicon) and the PII redaction.
CODE_PATHS = (_PACKAGE / "complaints", _PACKAGE / "privacy")


def code_digest(paths: Iterable[Path] = CODE_PATHS, libraries: Iterable[str] = LIBRARIES) -> str:
    """SHA-256 of the analysis code (``*.py`` and ``*.csv`` directly under ``paths``) and the library versions."""
    digest = hashlib.sha256()
    for folder in paths:
        for path in sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in {".py", ".csv"}):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in libraries:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name}=={version}\0".encode())
    return digest.hexdigest()


def analysis_key(models: Models, code: str | None = None) -> str:
    """What a text's analysis depends on: the fitted models' key (model version and everything they
    learn from: corpora, taxonomy, overrides with their texts) and the analysis code and libraries."""
    code = code if code is not None else code_digest()
    return hashlib.sha256(f"{models.key}\0{code}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Increment:
    """What one build adds to the incremental table, and how much it analysed."""

    rows: pd.DataFrame  #: one row per new or changed complaint: OUTPUT_COLUMNS and KEY_COLUMNS
    key: str  #: the analysis key of this build
    candidates: int  #: complaint candidates in the build
    new: int  #: of them, not held under this key with this text
    analysed: int  #: distinct texts analysed
    reused: int  #: distinct texts copied from an earlier analysis under the same key

    def summary(self) -> str:
        return (
            f"complaint analysis {self.key}: {self.candidates} candidates, {self.new} new or changed; "
            f"{self.analysed} distinct texts analysed, {self.reused} reused"
        )


def analyse_increment(
    candidates: duckdb.DuckDBPyRelation,
    existing: str | None,
    taxonomy: Iterable[Mapping[str, object]],
    overrides: Iterable[Mapping[str, object]] = (),
    corpus_dir: Path = PROJECT_CORPUS_DIR,
    corpora_dir: Path | None = SHARED_CORPORA_DIR,
    cache_dir: Path | None = None,
) -> Increment:
    """The analysis of the ``candidates`` (``complaint_id, complaint_text``) not yet in ``existing``.

    ``existing``: the table of earlier results (the incremental model itself, ``None`` on a first or
    full build), read in the candidates' connection. A candidate is new when ``existing`` has no row
    for its complaint with the same text hash and analysis key (a new complaint, a changed text, a
    new key); a new candidate whose text ``existing`` holds under the key gets that analysis, the
    others are analysed, each distinct text once.
    """
    overrides = list(overrides)
    taxonomy = list(taxonomy)
    override_ids = sorted({str(r["complaint_id"]) for r in overrides if isinstance(r.get("complaint_id"), str)})
    texts: dict[str, object] = {}
    if override_ids:
        wanted = duckdb.ColumnExpression("complaint_id").isin(*(duckdb.ConstantExpression(i) for i in override_ids))
        found = candidates.filter(wanted).project("complaint_id, complaint_text").fetchall()
        texts = {str(i): t for i, t in found}
    models = complaint_models(taxonomy, overrides, texts, corpus_dir, corpora_dir, cache_dir)
    key = analysis_key(models)

    hashed = "select complaint_id, complaint_text, sha256(coalesce(complaint_text, '')) as text_hash from candidates"
    if existing is None:
        frame = _query(candidates, hashed)
        total = len(frame)
        frame["known"] = False
    else:
        quoted = key.replace("'", "''")
        sql = f"""
            with hashed as ({hashed}),
            held as (select complaint_id, text_hash from {existing} where analysis_key = '{quoted}'),
            new as (
                select hashed.* from hashed
                left join held on hashed.complaint_id = held.complaint_id and hashed.text_hash = held.text_hash
                where held.complaint_id is null
            ),
            known as (
                select distinct on (text_hash) * exclude (complaint_id)
                from {existing}
                where analysis_key = '{quoted}' and text_hash in (select text_hash from new)
                order by text_hash
            )
            select new.complaint_id, new.complaint_text, new.text_hash, known.text_hash is not null as known,
                known.* exclude (text_hash, analysis_key)
            from new left join known on new.text_hash = known.text_hash
        """
        frame = _query(candidates, sql)
        total = int(candidates.aggregate("count(*)").fetchall()[0][0])

    known = frame["known"].astype(bool)
    todo = frame.loc[~known, ["complaint_id", "complaint_text"]]
    analysed = analyse_texts(todo, taxonomy, models=models).set_index(todo.index) if len(todo) else None
    out = frame.loc[:, ["complaint_id", "text_hash"]].copy()
    for column in OUTPUT_COLUMNS[1:]:
        values = frame[column] if column in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="object")
        values = values.astype("object").where(known, pd.NA)
        if analysed is not None:
            values.loc[~known] = analysed[column].astype("object")
        out[column] = values
    out["analysis_key"] = key
    out = _typed(out)
    increment = Increment(
        rows=out,
        key=key,
        candidates=total,
        new=len(frame),
        analysed=int(todo["complaint_text"].fillna("").nunique()),
        reused=int(frame.loc[known, "text_hash"].nunique()),
    )
    log.info(increment.summary())
    return increment


def _query(candidates: duckdb.DuckDBPyRelation, sql: str) -> pd.DataFrame:
    """``sql`` run with the relation ``candidates`` as the table of that name, as a frame."""
    result = candidates.query("candidates", sql)
    if result is None:
        raise RuntimeError(f"complaint analysis: the query returned no result: {sql}")
    frame: pd.DataFrame = result.df()
    return frame


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    columns = [*OUTPUT_COLUMNS, *KEY_COLUMNS]
    for column in columns:
        if column in NUMERIC_COLUMNS:
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
        else:
            frame[column] = frame[column].astype("string")
    return frame.loc[:, columns].reset_index(drop=True)
