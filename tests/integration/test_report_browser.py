"""The HTML report in a real headless Chromium (Debian's package, driven by Playwright).

A published demo warehouse whose complaints carry XSS probes (a ticket text with ``<script>``, a
post with ``<img onerror>``, a survey comment with a ``javascript:`` link, a language label for a
chart): the page loads from a file with no console error and no request but itself, each chart
draws its SVG and is not blank, and no probe runs while each shows as text.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cxpipe.publish import publish
from cxpipe.report import write_report
from cxpipe.settings import Settings

sync_api = pytest.importorskip("playwright.sync_api")

PROBES = {
    "ticket": "<script>window.__xss = 'script'</script>the sofa never came",
    "social": "<img src=x onerror=\"window.__xss = 'img'\">broken on arrival",
    "survey": "<a href=\"javascript:window.__xss = 'link'\">refund me</a>",
}
LANGUAGE_PROBE = "<img src=y onerror=\"window.__xss = 'chart'\">"
CHARTS = 9

#: How many distinct colours a picture has, counted by the browser itself from the PNG.
COUNT_COLOURS = """async (data) => {
  const image = new Image();
  image.src = 'data:image/png;base64,' + data;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const seen = new Set();
  for (let i = 0; i < pixels.length; i += 4) seen.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
  return seen.size;
}"""


def _seed_probes(settings: Settings) -> None:
    """Put the probes into the newest, most severe complaints of the build (what the report quotes)."""
    with duckdb.connect(str(settings.build_db)) as con:
        newest = con.execute("select max(created_at) from marts.complaints").fetchone()
        assert newest is not None
        for source, text in PROBES.items():
            con.execute(
                "update marts.complaints set redacted_text = ?, severity = 'high', "
                "created_at = ?::timestamptz + interval 1 day "
                "where complaint_id = (select min(complaint_id) from marts.complaints where complaint_source = ?)",
                [text, newest[0], source],
            )
        con.execute(
            "update marts.complaint_root_causes set dimension_value = ? "
            "where dimension = 'language' and dimension_value = 'en'",
            [LANGUAGE_PROBE],
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium")
    assert chromium, "headless Chromium is missing: apt-get install chromium (.ci/run installs it)"
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def test_report_loads_offline_draws_every_chart_and_runs_no_probe(
    warehouse_copy: Settings, browser: Any, tmp_path: Path
) -> None:
    _seed_probes(warehouse_copy)
    publication = publish(warehouse_copy, gate_status="passed")
    report = write_report(warehouse_copy)[0]

    page = browser.new_page(viewport={"width": 1300, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri(), wait_until="load")
    page.wait_for_function(f"document.querySelectorAll('div.plotly-graph-div svg.main-svg').length >= {CHARTS}")

    assert problems == []
    assert requests == [report.as_uri()]  # nothing from a CDN, nothing from the network
    assert f"publication {publication.publication_id}" in page.title()

    charts = page.query_selector_all("div.plotly-graph-div")
    assert len(charts) == CHARTS
    for chart in charts:
        name = chart.get_attribute("id")
        assert chart.query_selector_all("svg.main-svg"), f"{name} drew no SVG"
        assert chart.query_selector_all(".plot .trace, .barlayer .point, .scatterlayer .trace"), f"{name} is empty"
        colours = page.evaluate(COUNT_COLOURS, base64.b64encode(chart.screenshot()).decode())
        assert colours > 8, f"{name}: its screenshot has {colours} colours, i.e. it is blank"
    whole = page.screenshot(full_page=True, path=str(tmp_path / "report.png"))
    assert page.evaluate(COUNT_COLOURS, base64.b64encode(whole).decode()) > 16

    assert page.evaluate("typeof window.__xss") == "undefined"
    quoted = page.inner_text("#table-complaints")
    for text in PROBES.values():
        assert text in quoted  # shown as text, as written
    assert page.query_selector_all("#table-complaints script, #table-complaints img, #table-complaints a") == []
    assert LANGUAGE_PROBE in page.inner_text("#chart-language")  # the chart's axis label, drawn as text
    assert page.query_selector_all("#chart-language img, #chart-language a") == []
    assert page.evaluate("typeof window.__xss") == "undefined"
