"""The orchestration of a publication: its steps, reported in order to a step callback."""

import pytest

from cxpipe.publish import publish
from cxpipe.settings import Settings


def test_the_step_callback_sees_every_step_in_order_before_anything_is_swapped_in(
    warehouse_copy: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CX_REPORTING_POSTGRES_URL", raising=False)
    seen: list[tuple[str, bool, int]] = []

    def on_step(step: str) -> None:
        new_files = list(warehouse_copy.warehouse_dir.glob(".reporting.duckdb.*.tmp"))
        seen.append((step, warehouse_copy.reporting_db.exists(), len(new_files)))

    first = publish(warehouse_copy, gate_status="passed", on_step=on_step)
    assert seen == [("loaded", False, 1), ("verified", False, 1)]  # the new file is written, not yet swapped in

    steps: list[str] = []
    second = publish(warehouse_copy, gate_status="passed", on_step=steps.append)
    assert steps == ["loaded", "verified"]
    assert (first.publication_id, second.publication_id) == (1, 2)
