"""Incremental complaint analysis: only new complaints and new texts are analysed, with the same results."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import write_small_corpus

from cxpipe.complaints import analyse_texts, load_taxonomy
from cxpipe.complaints import model as fitted
from cxpipe.complaints.incremental import (
    BATCH_TEXTS,
    KEY_COLUMNS,
    analyse_increment,
    analysis_key,
    code_digest,
    training_inputs_key,
)
from cxpipe.complaints.pipeline import OUTPUT_COLUMNS
from cxpipe.settings import REPO_ROOT

TAXONOMY = load_taxonomy(REPO_ROOT / "dbt_project" / "seeds" / "complaint_taxonomy.csv")

FIRST = [
    ("ticket:1", "The sofa arrived three weeks late and nobody called me."),
    ("ticket:2", "The sofa arrived three weeks late and nobody called me."),
    ("survey:3", "Стол привезли с царапинами, очень недоволен"),
    ("social:4", "快递太慢了，说好的送货时间又延迟了"),
    ("ticket:5", None),
    ("ticket:6", "Call me at +44 20 7946 0958, the refund never came."),
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small training corpus (the first 80 train rows per language), so the models fit in seconds."""
    return write_small_corpus(tmp_path_factory.mktemp("corpus"))


def _candidates(con: duckdb.DuckDBPyConnection, rows: list[tuple[str, str | None]]) -> duckdb.DuckDBPyRelation:
    con.execute("create or replace table candidates (complaint_id varchar, complaint_text varchar)")
    con.executemany("insert into candidates values (?, ?)", [list(r) for r in rows])
    return con.table("candidates")


def _store(con: duckdb.DuckDBPyConnection, rows: duckdb.DuckDBPyRelation) -> None:
    """What dbt's delete+insert on complaint_id does with the increment, then the post-hook's delete."""
    con.register("increment", rows)
    if not con.execute("select count(*) from information_schema.tables where table_name = 'nlp'").fetchone()[0]:  # type: ignore[index]
        con.execute("create table nlp as select * from increment")
    else:
        con.execute("delete from nlp where complaint_id in (select complaint_id from increment)")
        con.execute("insert into nlp select * from increment")
    con.execute("delete from nlp where complaint_id not in (select complaint_id from candidates)")
    con.unregister("increment")


def _full(
    rows: list[tuple[str, str | None]], corpus: Path, cache: Path, overrides: list[dict[str, str]]
) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["complaint_id", "complaint_text"])
    out = analyse_texts(frame, TAXONOMY, overrides=overrides, corpus_dir=corpus, corpora_dir=None, cache_dir=cache)
    return out.sort_values("complaint_id").reset_index(drop=True)


def _held(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    frame = con.execute(f"select {', '.join(OUTPUT_COLUMNS)} from nlp order by complaint_id").df()
    for column in frame.columns:
        frame[column] = frame[column].astype("float64" if frame[column].dtype.kind == "f" else "string")
    return frame


def test_a_second_build_analyses_only_new_complaints_and_new_texts(corpus: Path, tmp_path: Path) -> None:
    con = duckdb.connect()
    kwargs = {"corpus_dir": corpus, "corpora_dir": None, "cache_dir": tmp_path}

    first = analyse_increment(con, _candidates(con, FIRST), None, TAXONOMY, **kwargs)
    assert first.rows.columns == [*OUTPUT_COLUMNS, *KEY_COLUMNS]
    assert (first.candidates, first.new, first.analysed, first.reused) == (6, 6, 5, 0)
    _store(con, first.rows)
    pd.testing.assert_frame_equal(_held(con), _full(FIRST, corpus, tmp_path, []))

    second_rows = [
        *[r for r in FIRST if r[0] != "survey:3"],  # survey:3 is no longer a candidate
        ("ticket:7", "Стол привезли с царапинами, очень недоволен"),  # a new complaint, a text seen before
        ("ticket:8", "The wardrobe doors do not close, poor quality."),  # a new complaint, a new text
    ]
    second_rows[0] = ("ticket:1", "The sofa arrived three weeks late, still no call.")  # a changed text
    second = analyse_increment(con, _candidates(con, second_rows), "nlp", TAXONOMY, **kwargs)
    assert second.key == first.key
    assert sorted(i for (i,) in second.rows.project("complaint_id").fetchall()) == ["ticket:1", "ticket:7", "ticket:8"]
    assert (second.candidates, second.new, second.analysed, second.reused) == (7, 3, 2, 1)
    _store(con, second.rows)
    pd.testing.assert_frame_equal(_held(con), _full(second_rows, corpus, tmp_path, []))

    # nothing new to analyse: the key comes from the inputs, the fitted models are neither loaded nor fitted
    fitted._MEMORY.clear()
    empty_cache = tmp_path / "unused-cache"
    third = analyse_increment(
        con, _candidates(con, second_rows), "nlp", TAXONOMY, corpus_dir=corpus, corpora_dir=None, cache_dir=empty_cache
    )
    assert (third.key, third.new, third.analysed, third.reused, third.rows.shape[0]) == (first.key, 0, 0, 0, 0)
    assert not fitted._MEMORY
    assert not empty_cache.exists()


def test_new_overrides_or_taxonomy_analyse_every_complaint_again(corpus: Path, tmp_path: Path) -> None:
    con = duckdb.connect()
    kwargs = {"corpus_dir": corpus, "corpora_dir": None, "cache_dir": tmp_path}
    first = analyse_increment(con, _candidates(con, FIRST), None, TAXONOMY, **kwargs)
    _store(con, first.rows)

    overrides = [{"complaint_id": "ticket:6", "root_cause": "returns_refunds", "reason": "refund"}]
    overridden = analyse_increment(con, _candidates(con, FIRST), "nlp", TAXONOMY, overrides, **kwargs)
    assert overridden.key != first.key
    assert (overridden.new, overridden.analysed) == (6, 5)
    _store(con, overridden.rows)
    pd.testing.assert_frame_equal(_held(con), _full(FIRST, corpus, tmp_path, overrides))
    # the override's complaint is not new in the next build, but its text still trains the model
    again = analyse_increment(con, _candidates(con, FIRST), "nlp", TAXONOMY, overrides, **kwargs)
    assert (again.key, again.new) == (overridden.key, 0)

    taxonomy = [dict(r) for r in TAXONOMY]
    taxonomy[0]["weight"] = float(str(taxonomy[0].get("weight", 1.0))) + 1.0
    retaxed = analyse_increment(con, _candidates(con, FIRST), "nlp", taxonomy, overrides, **kwargs)
    assert retaxed.key not in {first.key, overridden.key}
    assert retaxed.new == 6


def test_the_key_follows_the_analysis_code_and_library_versions(corpus: Path, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "rules.py").write_text("LIMIT = 1\n", encoding="utf-8")
    (code / "notes.txt").write_text("not code\n", encoding="utf-8")
    before = code_digest([code], ["numpy"])
    (code / "notes.txt").write_text("still not code\n", encoding="utf-8")
    assert code_digest([code], ["numpy"]) == before
    assert code_digest([code], ["numpy", "no-such-library"]) != before
    (code / "rules.py").write_text("LIMIT = 2\n", encoding="utf-8")
    assert code_digest([code], ["numpy"]) != before

    training = training_inputs_key(TAXONOMY, corpus_dir=corpus, corpora_dir=None)
    assert analysis_key(training, "a") != analysis_key(training, "b")
    assert analysis_key(training, "a") == analysis_key(training, "a")
    assert analysis_key(training, "a") != analysis_key(training + "0", "a")
    assert len(code_digest()) == 64


def test_the_training_key_follows_every_training_input(corpus: Path, tmp_path: Path) -> None:
    copy = tmp_path / "corpus"
    copy.mkdir()
    for path in corpus.glob("complaints_*.csv"):
        (copy / path.name).write_bytes(path.read_bytes())
    overrides = [{"complaint_id": "ticket:6", "root_cause": "returns_refunds", "reason": "refund"}]
    override_texts: dict[str, str | None] = {"ticket:6": "The refund never came."}

    def key(
        taxonomy: list[dict[str, object]] = TAXONOMY,
        overrides: list[dict[str, str]] = overrides,
        texts: dict[str, str | None] | None = None,
        corpora_dir: Path | None = None,
    ) -> str:
        given = texts if texts is not None else override_texts
        return training_inputs_key(taxonomy, overrides, given, corpus_dir=copy, corpora_dir=corpora_dir)

    before = key()
    assert key() == before
    assert key(texts={**override_texts, "ticket:9": None}) == before  # a complaint without text trains nothing
    assert key(texts={"ticket:6": "The refund came late."}) != before
    assert key(overrides=[{**overrides[0], "root_cause": "delivery_delay"}]) != before
    assert key(overrides=[]) != before
    assert key(taxonomy=TAXONOMY[1:]) != before
    public = tmp_path / "public"
    public.mkdir()
    assert key(corpora_dir=public) == before  # no public corpus in it
    (public / "waimai_10k.csv").write_text("label,review\n1,好吃\n", encoding="utf-8")
    with_public = key(corpora_dir=public)
    assert with_public != before
    (public / "waimai_10k.csv").write_text("label,review\n0,难吃\n", encoding="utf-8")
    assert key(corpora_dir=public) not in {before, with_public}
    first = sorted(copy.glob("complaints_*.csv"))[0]
    first.write_bytes(first.read_bytes() + b"\n")
    assert key() != before


def _rows(increment_rows: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    return increment_rows.order("complaint_id").df()


@pytest.mark.parametrize("batch_texts", [1, 2, 4])
def test_batches_of_texts_give_the_rows_of_one_batch(corpus: Path, tmp_path: Path, batch_texts: int) -> None:
    kwargs = {"corpus_dir": corpus, "corpora_dir": None, "cache_dir": tmp_path}
    con = duckdb.connect()
    whole = analyse_increment(con, _candidates(con, FIRST), None, TAXONOMY, **kwargs)
    assert whole.batches == 1
    expected = _rows(whole.rows)

    batched = analyse_increment(con, _candidates(con, FIRST), None, TAXONOMY, batch_texts=batch_texts, **kwargs)
    assert (batched.analysed, batched.batches) == (5, -(-5 // batch_texts))  # 5 distinct texts, rounded up
    pd.testing.assert_frame_equal(_rows(batched.rows), expected)
    # the work tables are gone; only the result is left in the connection
    temp = con.execute("select table_name from duckdb_tables() where temporary order by 1").fetchall()
    assert temp == [("cx_nlp_rows",)]


def test_an_incremental_build_in_batches_reuses_and_analyses_as_one_batch(corpus: Path, tmp_path: Path) -> None:
    kwargs = {"corpus_dir": corpus, "corpora_dir": None, "cache_dir": tmp_path}
    second_rows = [*FIRST, ("ticket:7", "Стол привезли с царапинами"), ("ticket:8", "Wardrobe doors do not close.")]
    results = []
    for batch_texts in (1, BATCH_TEXTS):
        con = duckdb.connect()
        _store(con, analyse_increment(con, _candidates(con, FIRST), None, TAXONOMY, **kwargs).rows)
        second = analyse_increment(
            con, _candidates(con, second_rows), "nlp", TAXONOMY, batch_texts=batch_texts, **kwargs
        )
        assert (second.new, second.analysed, second.reused, second.batches) == (2, 2, 0, 2 if batch_texts == 1 else 1)
        _store(con, second.rows)
        results.append(_held(con))
    pd.testing.assert_frame_equal(results[0], results[1])
    pd.testing.assert_frame_equal(results[0], _full(second_rows, corpus, tmp_path, []))


def test_a_batch_size_below_one_is_refused(corpus: Path, tmp_path: Path) -> None:
    con = duckdb.connect()
    with pytest.raises(ValueError, match="batch_texts must be ≥ 1"):
        analyse_increment(
            con,
            _candidates(con, FIRST),
            None,
            TAXONOMY,
            corpus_dir=corpus,
            corpora_dir=None,
            cache_dir=tmp_path,
            batch_texts=0,
        )
