"""Gate configuration read from the environment (no dbt build needed)."""

import pytest

from cxpipe.gate import drift_threshold_pct


def test_drift_threshold_must_be_a_percentage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CX_GATE_DRIFT_PCT", "lots")
    with pytest.raises(ValueError, match="CX_GATE_DRIFT_PCT='lots' is not a number"):
        drift_threshold_pct()
    monkeypatch.delenv("CX_GATE_DRIFT_PCT")
    assert drift_threshold_pct() == 50.0
