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
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from cxpipe.complaints.corpora import PROJECT_CORPUS_DIR, SENTIRUEVAL_FILE, SHARED_CORPORA_DIR, WAIMAI_FILE
from cxpipe.complaints.schema import MODEL_VERSION, NUMERIC_COLUMNS, OUTPUT_COLUMNS

if TYPE_CHECKING:
    from cxpipe.complaints.model import Models

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


def training_inputs_key(
    taxonomy: Iterable[Mapping[str, object]],
    overrides: Iterable[Mapping[str, object]] = (),
    texts: Mapping[str, object] | None = None,
    corpus_dir: Path = PROJECT_CORPUS_DIR,
    corpora_dir: Path | None = SHARED_CORPORA_DIR,
) -> str:
    """SHA-256 of everything the fitted models learn from, taken from the inputs as they are given.

    The model version, the bytes of the training files (the project corpus' ``complaints_*.csv``, the
    public corpora present in ``corpora_dir``), the ``taxonomy`` rows, the ``overrides`` rows and the
    override complaints' ``texts`` (complaint id → raw text). Nothing is parsed or fitted, so a build
    with no new text to analyse knows its key without loading the models; a change to any input
    (even one the models would ignore, such as an override without a cause) changes it.
    """
    digest = hashlib.sha256(f"model {MODEL_VERSION}\0".encode())
    files = sorted(corpus_dir.glob("complaints_*.csv"))
    if corpora_dir is not None:
        files += [corpora_dir / name for name in (WAIMAI_FILE, SENTIRUEVAL_FILE) if (corpora_dir / name).is_file()]
    for path in files:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    for part in (taxonomy, overrides):
        rows = [sorted((str(k), str(v)) for k, v in row.items()) for row in part]
        digest.update(json.dumps(rows, ensure_ascii=False).encode() + b"\0")
    by_id = sorted((str(k), v) for k, v in (texts or {}).items() if isinstance(v, str) and v)
    digest.update(json.dumps(by_id, ensure_ascii=False).encode())
    return digest.hexdigest()


def analysis_key(training: str, code: str | None = None) -> str:
    """What a text's analysis depends on: what the fitted models learn from (``training``,
    :func:`training_inputs_key`) and the analysis code and libraries (:func:`code_digest`)."""
    code = code if code is not None else code_digest()
    return hashlib.sha256(f"{training}\0{code}".encode()).hexdigest()[:32]


#: Distinct texts analysed per batch: the pandas frames of one batch (the texts, their n-grams and
#: results) stay in the tens of MB, the rest waits in DuckDB, which spills beyond its memory limit.
#: ``CX_COMPLAINT_BATCH_TEXTS`` (cxpipe.settings) sets it for the dbt build.
BATCH_TEXTS = 50_000

#: Prefix of the temporary tables the analysis keeps in the build's connection.
_TEMP = "cx_nlp_"


@dataclass(frozen=True)
class Increment:
    """What one build adds to the incremental table, and how much it analysed."""

    #: one row per new or changed complaint: OUTPUT_COLUMNS and KEY_COLUMNS (a temporary table of the connection)
    rows: duckdb.DuckDBPyRelation
    key: str  #: the analysis key of this build
    candidates: int  #: complaint candidates in the build
    new: int  #: of them, not held under this key with this text
    analysed: int  #: distinct texts analysed
    reused: int  #: distinct texts copied from an earlier analysis under the same key
    batches: int  #: batches the analysed texts were split into (at most ``batch_texts`` each)

    def summary(self) -> str:
        return (
            f"complaint analysis {self.key}: {self.candidates} candidates, {self.new} new or changed; "
            f"{self.analysed} distinct texts analysed in {self.batches} batches, {self.reused} reused"
        )


def analyse_increment(
    con: duckdb.DuckDBPyConnection,
    candidates: duckdb.DuckDBPyRelation,
    existing: str | None,
    taxonomy: Iterable[Mapping[str, object]],
    overrides: Iterable[Mapping[str, object]] = (),
    corpus_dir: Path = PROJECT_CORPUS_DIR,
    corpora_dir: Path | None = SHARED_CORPORA_DIR,
    cache_dir: Path | None = None,
    batch_texts: int = BATCH_TEXTS,
) -> Increment:
    """The analysis of the ``candidates`` (``complaint_id, complaint_text``) not yet in ``existing``.

    ``con``: the connection ``candidates`` belongs to (in the dbt model, its ``session``); the work
    tables and the result are temporary tables of it. ``existing``: the table of earlier results (the
    incremental model itself, ``None`` on a first or full build). A candidate is new when ``existing``
    has no row for its complaint with the same text hash and analysis key (a new complaint, a changed
    text, a new key); a new candidate whose text ``existing`` holds under the key gets that analysis,
    the others are analysed, each distinct text once.

    Memory stays bounded: texts are hashed and de-duplicated in DuckDB (SHA-256), the distinct texts
    to analyse are numbered in hash order and read ``batch_texts`` at a time, and each batch's
    analyses are written back into DuckDB before the next batch is read. The result is a relation
    over a temporary table, never one frame of every complaint.
    """
    if batch_texts < 1:
        raise ValueError(f"analyse_increment: batch_texts must be ≥ 1, got {batch_texts}")
    overrides = list(overrides)
    taxonomy = list(taxonomy)
    override_ids = sorted({str(r["complaint_id"]) for r in overrides if isinstance(r.get("complaint_id"), str)})
    texts: dict[str, object] = {}
    if override_ids:
        wanted = duckdb.ColumnExpression("complaint_id").isin(*(duckdb.ConstantExpression(i) for i in override_ids))
        found = candidates.filter(wanted).project("complaint_id, complaint_text").fetchall()
        texts = {str(i): t for i, t in found}
    # the models are loaded (or fitted) only when there is a text to analyse: their key comes from the inputs
    key = analysis_key(training_inputs_key(taxonomy, overrides, texts, corpus_dir, corpora_dir))
    models: Models | None = None
    quoted = key.replace("'", "''")

    view, new, results, todo, batch, rows = (
        f"{_TEMP}{n}" for n in ("candidates", "new", "results", "todo", "batch", "rows")
    )
    candidates.project("complaint_id, complaint_text").create_view(view, replace=True)
    value_columns = OUTPUT_COLUMNS[1:]
    try:
        # the new candidates (complaint, text, its hash): all of them on a full build
        held = (
            f"where not exists (select 1 from {existing} as held where held.analysis_key = '{quoted}' "
            "and held.complaint_id = hashed.complaint_id and held.text_hash = hashed.text_hash)"
            if existing is not None
            else ""
        )
        con.execute(f"""
            create or replace temp table {new} as
            select complaint_id, text_hash, text from (
                select complaint_id, coalesce(complaint_text, '') as text,
                    sha256(coalesce(complaint_text, '')) as text_hash
                from {view}
            ) as hashed
            {held}
        """)
        # one analysis per text hash: first the ones held under this key, then the batches analysed here
        typed = ", ".join(f"{c} {'double' if c in NUMERIC_COLUMNS else 'varchar'}" for c in value_columns)
        con.execute(f"create or replace temp table {results} (text_hash varchar, {typed})")
        if existing is not None:
            con.execute(f"""
                insert into {results} by name
                select distinct on (text_hash) text_hash, {", ".join(value_columns)}
                from {existing}
                where analysis_key = '{quoted}' and text_hash in (select text_hash from {new})
                order by text_hash
            """)
        reused = _count(con, results)
        con.execute(f"""
            create or replace temp table {todo} as
            select row_number() over (order by text_hash) as n, text_hash, text from (
                select text_hash, any_value(text) as text from {new}
                where text_hash not in (select text_hash from {results})
                group by text_hash
            )
        """)
        analysed = _count(con, todo)
        batches = 0
        if analysed:
            # the analysis' libraries and fitted models load only when there is a text to analyse
            from cxpipe.complaints.pipeline import analyse_texts, complaint_models

            if models is None:
                models = complaint_models(taxonomy, overrides, texts, corpus_dir, corpora_dir, cache_dir)
        for low in range(0, analysed, batch_texts):
            frame = con.execute(
                f"select text_hash, text from {todo} where n > ? and n <= ? order by n", [low, low + batch_texts]
            ).df()
            out = analyse_texts(frame, taxonomy, id_column="text_hash", text_column="text", models=models)
            out = out.rename(columns={"complaint_id": "text_hash"})
            con.register(batch, out)
            try:
                con.execute(f"insert into {results} by name select * from {batch}")
            finally:
                con.unregister(batch)
            batches += 1
            del frame, out
            log.info(
                "complaint analysis: batch %d, %d of %d texts", batches, min(low + batch_texts, analysed), analysed
            )
        con.execute(f"""
            create or replace temp table {rows} as
            select new.complaint_id, {", ".join(f"results.{c}" for c in value_columns)},
                new.text_hash, '{quoted}' as analysis_key
            from {new} as new join {results} as results on new.text_hash = results.text_hash
        """)
    finally:
        for table in (new, results, todo):
            con.execute(f"drop table if exists {table}")
        con.execute(f"drop view if exists {view}")
    total = int(candidates.aggregate("count(*)").fetchall()[0][0])
    increment = Increment(
        rows=con.table(rows),
        key=key,
        candidates=total,
        new=_count(con, rows),
        analysed=analysed,
        reused=reused,
        batches=batches,
    )
    log.info(increment.summary())
    return increment


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    # fetchall, not fetchone: DuckDB 2.0 keeps a connection busy until its result is drained
    return int(con.execute(f"select count(*) from {table}").fetchall()[0][0])


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the table's columns in order: text as pandas strings, the numbers as float64
    (the Spark build's batches, :mod:`cxpipe.complaints.on_spark`)."""
    columns = [*OUTPUT_COLUMNS, *KEY_COLUMNS]
    for column in columns:
        if column in NUMERIC_COLUMNS:
            frame[column] = pd.to_numeric(frame[column]).astype("float64")
        else:
            frame[column] = frame[column].astype("string")
    return frame.loc[:, columns].reset_index(drop=True)
