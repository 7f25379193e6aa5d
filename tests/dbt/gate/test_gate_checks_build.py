"""Generic gate checks (freshness, shares, drift) on a real build and a real publication."""

import duckdb
import pytest
from configured import configured
from conftest import kept_for_run

from cxpipe.contracts import REPORTING_TABLES
from cxpipe.gate import GateBlockedError, check_gate, run_gate, table_config
from cxpipe.publish import publish
from cxpipe.settings import Settings


def _declared(settings: Settings, check: str) -> dict[str, dict[str, object]]:
    """The reporting tables whose suite declares generic check ``check``, with its settings."""
    configs = {t: table_config(settings, t) for t in REPORTING_TABLES}
    return {t: c[check] for t, c in configs.items() if check in c}


def _blocked(settings: Settings) -> GateBlockedError:
    kept_for_run(settings, "run-x")
    with pytest.raises(GateBlockedError) as caught:
        check_gate(settings, run_id="run-x")
    return caught.value


def test_stale_data_fails_freshness(warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    error = _blocked(configured(warehouse_copy, CX_GATE_AS_OF="2027-06-01"))
    fresh = _declared(warehouse_copy, "freshness")
    assert {"complaint_root_causes", "customer_segments", "satisfaction_index"} <= fresh.keys()
    assert sorted((f.table, f.expectation) for f in error.result.failures) == sorted(
        (table, f"freshness_within_{config['max_age_days']}_days") for table, config in fresh.items()
    )
    assert error.result.failures[0].observed["as_of"] == "2027-06-01"


def test_shares_must_sum_to_100_per_month_and_breakdown(warehouse_copy: Settings) -> None:
    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        con.execute(
            "update marts.complaint_root_causes set share_pct = share_pct / 2 "
            "where month = (select max(month) from marts.complaint_root_causes) and dimension = 'all'"
        )
    error = _blocked(warehouse_copy)
    assert [(f.table, f.expectation) for f in error.result.failures] == [("complaint_root_causes", "shares_sum_to_100")]
    assert len(error.result.failures[0].observed) == 1
    (month, dimension, value, total) = error.result.failures[0].observed[0]
    assert (month, dimension, value) == ("2026-11-01", "all", "all") and abs(float(total) - 50) < 0.1


def test_drift_against_the_last_publication_blocks_beyond_the_threshold(
    warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(warehouse_copy, gate_status="passed")
    with duckdb.connect(str(warehouse_copy.build_db)) as con:
        con.execute("delete from marts.customer_segments where hash(customer_key) % 10 < 7")
        con.execute("update marts.satisfaction_index set satisfaction_index = satisfaction_index / 3")

    error = _blocked(warehouse_copy)
    failed = {(f.table, f.expectation, f.column) for f in error.result.failures}
    assert failed == {
        ("customer_segments", "row_count_drift_within_50_pct", None),
        ("satisfaction_index", "avg_drift_within_50_pct", "satisfaction_index"),
    }
    rows = next(f for f in error.result.failures if f.table == "customer_segments").observed
    assert rows["current"] < rows["previous"] * 0.5

    assert run_gate(configured(warehouse_copy, CX_GATE_DRIFT_PCT="90")).passed
