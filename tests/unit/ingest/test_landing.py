"""cxpipe.ingest.landing: which files a date has, whether a source is ready, required columns."""

from pathlib import Path

import pandas as pd
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


def test_json_keys_that_are_aliases_are_read_as_their_column_nested_paths_too(tmp_path: Path) -> None:
    import dataclasses
    import json

    from cxpipe.contracts import POSTS
    from cxpipe.ingest.landing import read_file

    aliases = {"post_id": ("id_str", "id"), "handle": ("user.screen_name",)}
    entity = dataclasses.replace(
        POSTS, columns=tuple(dataclasses.replace(c, aliases=aliases.get(c.name, ())) for c in POSTS.columns)
    )
    lines = [
        {"id_str": "T1", "user": {"screen_name": "anna"}},
        {"id": "T2", "user": {"name": "no handle"}},
        {"post_id": "T3", "id_str": "ignored", "handle": "own"},
    ]
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    frame, _, _ = read_file(entity, path, None)
    assert list(frame["post_id"]) == ["T1", "T2", "T3"]  # the column's own key first, then its aliases in order
    assert [None if pd.isna(v) else v for v in frame["handle"]] == ["anna", None, "own"]
    assert "id_str" not in frame.columns and "id" not in frame.columns and "user" in frame.columns
