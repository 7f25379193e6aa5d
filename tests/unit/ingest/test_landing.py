"""cxpipe.ingest.landing: which files a date has, whether a source is ready, required columns."""

import pytest
from ingest_helpers import DAY, _responses

from cxpipe.contracts import TICKETS, ContractError
from cxpipe.demo import DemoSpec, generate
from cxpipe.ingest import ingest_source, landing_file, landing_ready
from cxpipe.settings import Settings


def test_missing_required_column_fails_naming_file_and_column(settings: Settings) -> None:
    path = _responses(settings, "R1,O1", header="response_id,order_id")
    with pytest.raises(ContractError) as caught:
        ingest_source(settings, "surveys", DAY)
    message = str(caught.value)
    assert str(path) in message
    assert "touchpoint" in message and "responded_at" in message
    assert not (settings.lake_dir / "surveys").exists()


def test_landing_ready_needs_every_file_of_the_source(settings: Settings) -> None:
    assert not landing_ready(settings, "crm", DAY)
    generate(settings.landing_dir, DemoSpec(start=DAY, history_days=2, customers=5))
    assert landing_ready(settings, "crm", DAY)
    landing_file(settings, TICKETS, DAY).unlink()
    assert not landing_ready(settings, "crm", DAY)
