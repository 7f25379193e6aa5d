"""An injected spike in the demo landing data raises exactly that complaint alert.

Demo data is generated, ingested and built with dbt. One week x root cause x region
that raised no alert is picked, and each of its complaints (ticket, survey answer or
social post) is copied twice with a new id into the landing files, tripling the count.
After ingest and a second build, complaint_alerts has that alert and no other in the week.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import date
from pathlib import Path

import charset_normalizer
import duckdb
import pytest
from conftest import SMALL_DEMO, run_dbt, settings_for

from cxpipe.contracts import POSTS, RESPONSES, SOURCES, TICKETS, Entity
from cxpipe.demo import generate
from cxpipe.ingest import ingest_source, landing_file
from cxpipe.settings import Settings
from cxpipe.warehouse import connect_read_only
from cxpipe.warehouse.build import prepare_build

ENTITY_OF_SOURCE = {"ticket": TICKETS, "survey": RESPONSES, "social": POSTS}
# the alert rule's defaults in dbt_project.yml
MIN_COUNT, P_VALUE, MIN_HISTORY = 5, 0.01, 4


def _poisson_upper_tail(count: int, lam: float) -> float:
    return 1.0 - sum(math.exp(-lam) * lam**k / math.factorial(k) for k in range(count))


def _landing_dates(settings: Settings) -> list[date]:
    return sorted({date.fromisoformat(p.name) for p in settings.landing_dir.glob("*/*") if p.is_dir()})


def _ingest_and_build(settings: Settings) -> None:
    for day in _landing_dates(settings):
        for source in SOURCES:
            ingest_source(settings, source, day)
    # as the transform DAG's prepare_build task does before each build: dates loaded again make the
    # incremental models (the staging tables among them) rebuild from the lake
    prepare_build(settings, full_refresh=False)
    result = run_dbt(settings, "build", "--select", "+complaint_alerts", "--indirect-selection", "cautious")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _alerts(settings: Settings, week: date) -> set[tuple[str, str]]:
    with connect_read_only(settings.build_db) as con:
        rows = con.execute(
            "select root_cause, region from marts.complaint_alerts where is_alert and week_start = ?", [week]
        ).fetchall()
    return {(r[0], r[1]) for r in rows}


def _encoding(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else what charset-normalizer detects (exports vary)."""
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        best = charset_normalizer.from_bytes(raw).best()
        assert best is not None, "landing file has an undetectable encoding"
        return str(best.encoding)
    return "utf-8-sig"


def _duplicate(settings: Settings, entity: Entity, ids: set[str], copies: int) -> int:
    """Append ``copies`` copies of each landing row whose key is in ``ids``, with new keys."""
    added = 0
    for day in _landing_dates(settings):
        path = landing_file(settings, entity, day)
        if not path.exists():
            continue
        raw = path.read_bytes()
        encoding = _encoding(raw)
        text = raw.decode(encoding)
        new_rows: list[dict[str, object]] = []
        if entity.file_format == "jsonl":
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            rows = list(csv.DictReader(io.StringIO(text)))
        for row in rows:
            if str(row.get(entity.key)) in ids:
                new_rows += [{**row, entity.key: f"{row[entity.key]}SPIKE{n}"} for n in range(1, copies + 1)]
        if not new_rows:
            continue
        if entity.file_format == "jsonl":
            extra = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in new_rows)
        else:
            buffer = io.StringIO()
            csv.DictWriter(buffer, fieldnames=list(rows[0])).writerows(new_rows)
            extra = buffer.getvalue()
        with path.open("a", encoding="utf-8" if encoding == "utf-8-sig" else encoding, newline="") as fh:
            if not text.endswith("\n"):
                fh.write("\n")
            fh.write(extra)
        added += len(new_rows)
    return added


@pytest.mark.timeout(600)
@pytest.mark.slow
def test_a_tripled_cause_in_one_region_and_week_raises_exactly_that_alert(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    generate(settings.landing_dir, SMALL_DEMO)
    _ingest_and_build(settings)

    # the cell to spike: an evaluated week without alerts, a real region, and a count that,
    # tripled, passes the rule against its own baseline
    with connect_read_only(settings.build_db) as con:
        cells = con.execute(
            """
            select week_start, root_cause, region, complaints, baseline_mean
            from marts.complaint_alerts as a
            where history_weeks >= ? and region != 'Other' and complaints > 0
              and not exists (
                  select 1 from marts.complaint_alerts as b where b.week_start = a.week_start and b.is_alert
              )
            order by complaints desc, week_start desc, root_cause, region
            """,
            [MIN_HISTORY],
        ).fetchall()
        chosen = next(
            (c for c in cells if 3 * c[3] >= MIN_COUNT and _poisson_upper_tail(3 * c[3], max(c[4], 0.5)) < P_VALUE),
            None,
        )
        assert chosen is not None, f"no week in the demo data can carry a detectable spike: {cells[:5]}"
        week, cause, region, count, _ = chosen
        members = con.execute(
            "select complaint_source, source_id from intermediate.int_complaints_classified "
            "where complaint_week = ? and root_cause = ? and region = ?",
            [week, cause, region],
        ).fetchall()
    assert len(members) == count
    assert _alerts(settings, week) == set()

    added = 0
    for source, entity in ENTITY_OF_SOURCE.items():
        ids = {str(m[1]) for m in members if m[0] == source}
        added += _duplicate(settings, entity, ids, copies=2)
    assert added == 2 * count

    _ingest_and_build(settings)
    with duckdb.connect(str(settings.build_db), read_only=True) as con:
        spiked = con.execute(
            "select complaints from marts.complaint_alerts where week_start = ? and root_cause = ? and region = ?",
            [week, cause, region],
        ).fetchone()
    assert spiked == (3 * count,)
    assert _alerts(settings, week) == {(cause, region)}
    print(f"spiked {cause} in {region}, week of {week}: {count} -> {3 * count} complaints")
