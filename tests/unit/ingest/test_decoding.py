"""cxpipe.ingest.decoding: declared, BOM-marked, UTF-8 and detected encodings; undecodable bytes."""

import pytest
from configured import configured
from ingest_helpers import DAY, HEADER, _lake, _quarantine

from cxpipe.contracts import RESPONSES
from cxpipe.ingest import ingest_source, landing_file
from cxpipe.settings import Settings, SettingsError

CN_ROWS = [
    ("R1", "快递太慢了，说好的周二送到，到现在还没有消息"),
    ("R2", "桌子收到的时候已经坏了，客服一直不回复"),
    ("R3", "服务很好，安装师傅很专业，非常满意"),
    ("R4", "网上显示有货，到店里说缺货，浪费时间"),
]
RU_ROWS = [
    ("R1", "Доставка опоздала на неделю, никто не позвонил"),
    ("R2", "Шкаф привезли поврежденный, царапины на дверце"),
    ("R3", "Отличный сервис, быстрая доставка, спасибо"),
    ("R4", "Не хватает винтов, собрать невозможно"),
]


def _comment_rows(rows: list[tuple[str, str]]) -> str:
    lines = [HEADER] + [f'{rid},C1,O1,delivery,web,2026-10-30T10:00:00Z,3,7,5,"{text}"' for rid, text in rows]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("encoding", "rows"),
    [("utf-8", CN_ROWS), ("utf-8-sig", RU_ROWS), ("gbk", CN_ROWS), ("cp1251", RU_ROWS)],
)
def test_encodings_are_detected_and_text_survives(settings: Settings, encoding: str, rows: list) -> None:
    path = landing_file(settings, RESPONSES, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_comment_rows(rows).encode(encoding))
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded) == (4, 4)
    assert [r["comment"] for r in _lake(settings, "surveys", "responses")] == [text for _, text in rows]
    assert result.encoding  # recorded in the audit
    if encoding.startswith("utf-8"):
        assert result.encoding == encoding


def test_declared_encoding_wins_over_detection(settings: Settings) -> None:
    path = landing_file(settings, RESPONSES, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_comment_rows(RU_ROWS[:1]).encode("cp1251"))
    (result,) = ingest_source(configured(settings, CX_ENCODING_SURVEYS="cp1251"), "surveys", DAY)
    assert result.encoding == "cp1251"
    assert _lake(settings, "surveys", "responses")[0]["comment"] == RU_ROWS[0][1]
    # the entity's own declaration wins over its source's
    (result,) = ingest_source(
        configured(settings, CX_ENCODING_SURVEYS="utf-8", CX_ENCODING_SURVEYS_RESPONSES="cp1251"), "surveys", DAY
    )
    assert result.encoding == "cp1251"
    with pytest.raises(SettingsError, match="CX_ENCODING_SURVEYS_RESPONSES='klingon' is not an encoding"):
        configured(settings, CX_ENCODING_SURVEYS_RESPONSES="klingon")


def test_corrupt_bytes_quarantine_only_their_row_naming_line_and_column(settings: Settings) -> None:
    path = landing_file(settings, RESPONSES, DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    good = _comment_rows(CN_ROWS).encode("utf-8")
    broken = b"R9,C9,O9,delivery,web,2026-10-30T10:00:00Z,3,7,5,caf\xe9 was cold\n"
    path.write_bytes(good + broken)
    (result,) = ingest_source(settings, "surveys", DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (5, 4, 1)
    assert result.encoding == "utf-8"
    (bad,) = _quarantine(settings)
    assert bad["source_row"] == 6
    assert str(bad["reason"]).startswith("line 6, comment: bytes that are not valid utf-8")
    assert "CX_ENCODING_SURVEYS" in str(bad["reason"])
    assert "caf\\xe9 was cold" in str(bad["raw"])


@pytest.mark.parametrize(
    "data",
    [
        "中文 text".encode("gbk"),
        "привет, мир".encode("cp1251") + "ä".encode(),
        b"ok \xff\xfe \xed\xa0\x80 " + "\uf701 kept".encode(),  # bad bytes, an encoded surrogate, private use
        b"plain ascii",
        b"",
    ],
)
def test_undecodable_bytes_are_counted_as_the_keep_bytes_reading_shows_them(data: bytes) -> None:
    from cxpipe.ingest import decoding

    kept = data.decode("utf-8", errors="cxpipe-keep-bytes")
    undecodable = len(decoding.UNDECODABLE.findall(kept))
    non_ascii = len(kept) - len(kept.encode("ascii", errors="ignore")) - undecodable
    assert decoding._utf8_counts(data) == (undecodable, non_ascii)
