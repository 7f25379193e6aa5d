"""Gate configuration: the freshness reference date (no dbt build needed)."""

from datetime import date

from configured import configured

from cxpipe.gate import as_of_date
from cxpipe.settings import Settings


def test_freshness_is_measured_against_the_setting_or_the_newest_lake_date(settings: Settings) -> None:
    for partition in ("_load_audit/sales/load_date=2026-11-02", "crm/customers/load_date=2026-11-04"):
        (settings.lake_dir / partition).mkdir(parents=True)
    (settings.lake_dir / "crm/customers/load_date=not-a-date").mkdir(parents=True)
    assert as_of_date(settings) == date(2026, 11, 4)
    assert as_of_date(configured(settings, CX_GATE_AS_OF="2026-10-01")) == date(2026, 10, 1)
