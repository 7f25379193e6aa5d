"""Lake coverage: which landing dates every source has loaded, and what a transform run covers."""

from datetime import date, timedelta

import pytest

from cxpipe.contracts import SOURCES
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source
from cxpipe.lake import LakeIncompleteError, check_lake, incomplete_dates, lake_coverage
from cxpipe.settings import Settings

D1 = date(2026, 11, 1)


@pytest.fixture
def lake_with_a_late_source(settings: Settings) -> Settings:
    """Three landing dates for sales, crm and surveys; social has only loaded the first two."""
    generate(settings.landing_dir, DemoSpec(start=D1, days=3, history_days=2, customers=20, orders_per_day=3))
    for offset in range(3):
        for source in SOURCES:
            if source == "social" and offset == 2:
                continue
            ingest_source(settings, source, D1 + timedelta(days=offset))
    return settings


def test_scheduled_run_covers_only_dates_every_source_has_loaded(lake_with_a_late_source: Settings) -> None:
    settings = lake_with_a_late_source
    coverage = lake_coverage(settings)
    assert coverage.dates["sales"] == [D1, date(2026, 11, 2), date(2026, 11, 3)]
    assert coverage.dates["social"] == [D1, date(2026, 11, 2)]
    covered = check_lake(settings, {"from_date": None, "to_date": None, "full_refresh": False})
    assert covered == {"from_date": "2026-11-01", "to_date": "2026-11-02", "late_sources": {"social": "2026-11-02"}}


def test_a_date_is_complete_once_every_source_has_loaded_it(lake_with_a_late_source: Settings) -> None:
    settings = lake_with_a_late_source
    assert incomplete_dates(settings, [D1, date(2026, 11, 2)]) == {}
    assert incomplete_dates(settings, [date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)]) == {
        "2026-11-03": ["social"],
        "2026-11-04": list(SOURCES),
    }
    ingest_source(settings, "social", date(2026, 11, 3))  # the late source lands
    assert incomplete_dates(settings, [date(2026, 11, 3)]) == {}


def test_manual_range_fails_naming_the_missing_source_and_date(lake_with_a_late_source: Settings) -> None:
    settings = lake_with_a_late_source
    covered = check_lake(settings, {"from_date": "2026-11-02", "to_date": "2026-11-02"})
    assert (covered["from_date"], covered["to_date"]) == ("2026-11-02", "2026-11-02")
    with pytest.raises(LakeIncompleteError, match=r"no load of social 2026-11-03 .*run the cx_ingest_<source> DAGs"):
        check_lake(settings, {"from_date": "2026-11-01", "to_date": "2026-11-03"})


def test_an_empty_lake_cannot_be_built(settings: Settings) -> None:
    with pytest.raises(LakeIncompleteError, match="nothing yet from: sales, crm, surveys, social"):
        check_lake(settings, {})
