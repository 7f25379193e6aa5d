"""Every publication attempt in the operations publication_log, newest first."""

from cxpipe.publish.attempts import list_attempts, record_attempt
from cxpipe.settings import Settings


def test_attempts_are_recorded_and_listed_newest_first(settings: Settings) -> None:
    record_attempt(settings, "published", target="duckdb", publication_id=1, run_id="r1", row_counts={"t": 3})
    record_attempt(settings, "failed", target="all", publication_id=2, reason="boom")
    attempts = list_attempts(settings)
    assert [(a["status"], a["target"], a["publication_id"], a["run_id"], a["reason"]) for a in attempts] == [
        ("failed", "all", 2, None, "boom"),
        ("published", "duckdb", 1, "r1", None),
    ]
    assert [a["status"] for a in list_attempts(settings, limit=1)] == ["failed"]
