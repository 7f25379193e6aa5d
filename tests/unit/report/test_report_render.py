"""The report page: "no data" per empty section, customer text escaped, scripts only with the page's nonce,
files written per publication and pruned."""

import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from configured import configured

from cxpipe.cli import main
from cxpipe.publish.duckdb_file import PUBLICATION_LOG_DDL
from cxpipe.report import ReportError, render_report, write_report
from cxpipe.report.data import ReportData
from cxpipe.report.render import fmt
from cxpipe.settings import Settings
from cxpipe.status import collect_status

NOW = datetime(2026, 11, 2, 14, tzinfo=UTC)
PROBES = (
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 2">',
    '<a href="javascript:window.__xss = 3">refund</a>',
)


def _reporting_file(settings: Settings, publication_id: int) -> None:
    """A new reporting file holding only its ``publication_log`` (every reporting table missing)."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings.reporting_db.unlink(missing_ok=True)
    with duckdb.connect(str(settings.reporting_db)) as con:
        con.execute(PUBLICATION_LOG_DDL)
        con.execute(
            "insert into publication_log values (?, ?, null, null, 'run', 'passed', 3, '{}', 'v', '{}')",
            [publication_id, NOW],
        )


def _scripts(page: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", page)


def test_every_section_says_no_data_when_nothing_is_there(settings: Settings) -> None:
    page = render_report(ReportData(), collect_status(settings, NOW), NOW)
    for section in ("satisfaction", "segments", "expectations", "complaints", "warnings", "recovery", "quality"):
        assert f'<section id="{section}">' in page
    assert page.count('class="nodata"') >= 15
    assert "no active early warnings" in page and "no gate run recorded" in page
    assert "plotly-graph-div" not in page  # no chart without data


def test_customer_text_is_escaped_and_every_script_carries_the_nonce(settings: Settings) -> None:
    quoted = pd.DataFrame(
        {
            "created_at": [NOW] * 3,
            "complaint_source": ["social", "ticket", "survey"],
            "channel": ["x", "email", "survey"],
            "language": ["en"] * 3,
            "root_cause": ["other"] * 3,
            "severity": ["high"] * 3,
            "redacted_text": list(PROBES),
        }
    )
    data = ReportData(frames={"quoted_complaints": quoted})
    page = render_report(data, collect_status(settings, NOW), NOW)
    for probe in PROBES:
        assert probe not in page
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&#34;window.__xss = 2&#34;&gt;" in page
    nonce = re.search(r"script-src 'nonce-([^']+)'", page)
    assert nonce and all(f'nonce="{nonce.group(1)}"' in tag for tag in _scripts(page))
    assert "https://" not in page.split("<body>")[1]  # nothing in the page's own markup points to the network


def test_cells_are_formatted_for_people() -> None:
    assert fmt(None) == fmt(float("nan")) == fmt(pd.NA) == "–"
    assert fmt(1234.567) == "1,234.6" and fmt(True) == "yes" and fmt(3) == "3"
    assert fmt(pd.Timestamp("2026-11-01")) == "2026-11-01"
    assert fmt(datetime(2026, 11, 1, 5, 7, tzinfo=UTC)) == "2026-11-01 05:07"


def test_reports_are_written_per_publication_and_pruned_like_publications(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ReportError, match="nothing published yet"):
        write_report(settings, now=NOW)
    assert main(["report"]) == 1

    kept = configured(settings, CX_KEEP_PUBLICATIONS="1")
    for publication_id in (1, 2, 3):
        _reporting_file(kept, publication_id)
        written = write_report(kept, now=NOW)
    folder = kept.data_dir / "reports"
    assert written == [folder / "report.html", folder / "report-3.html"]
    assert sorted(p.name for p in folder.iterdir()) == ["report-2.html", "report-3.html", "report.html"]
    assert "publication 3" in (folder / "report.html").read_text(encoding="utf-8")

    out = tmp_path / "elsewhere" / "page.html"
    assert main(["report", "--out", str(out)]) == 0
    assert f"report written: {out}" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
