"""The runbook exists once (docs/runbook.md) and DAG docs are built from its sections."""

import re
from pathlib import Path

import pytest

from cxpipe.runbook import RUNBOOK_RELATIVE, dag_doc, sections
from cxpipe.settings import REPO_ROOT

RUNBOOK = REPO_ROOT / RUNBOOK_RELATIVE


def test_sections_split_on_level_two_headings_but_not_inside_code() -> None:
    text = "# Title\nintro\n## One\nfirst\n```bash\n## not a heading\n```\n## Two\nsecond\n"
    found = sections(text)
    assert list(found) == ["One", "Two"]
    assert "## not a heading" in found["One"] and found["Two"] == "second"


def test_dag_doc_is_the_header_and_the_named_sections_in_order(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / RUNBOOK_RELATIVE).write_text("# R\n## A\naaa\n## B\nbbb\n## C\nccc\n", encoding="utf-8")
    doc = dag_doc(tmp_path, "### My DAG", ["C", "A"])
    assert doc.startswith("### My DAG")
    assert doc.index("#### C") < doc.index("ccc") < doc.index("#### A") < doc.index("aaa")
    assert "bbb" not in doc
    with pytest.raises(KeyError, match=r"no section\(s\) \['Z'\]"):
        dag_doc(tmp_path, "### My DAG", ["Z"])


def test_a_missing_runbook_gives_the_header_and_a_pointer(tmp_path: Path) -> None:
    doc = dag_doc(tmp_path, "### My DAG", ["A"])
    assert doc.startswith("### My DAG") and str(RUNBOOK_RELATIVE) in doc


def _sentences(text: str) -> set[str]:
    """Sentences of prose (code blocks dropped, whitespace and line wrapping normalised), 40+ chars."""
    prose = re.sub(r"```.*?```", " ", text, flags=re.S)
    flat = " ".join(prose.split())
    return {s.strip() for s in re.split(r"(?<=[.;:!?])\s+|\s+-\s+|\|", flat) if len(s.strip()) >= 40}


def test_runbook_rules_are_written_once() -> None:
    runbook_lines = _sentences(RUNBOOK.read_text(encoding="utf-8"))
    others = [
        REPO_ROOT / "README.md",
        *sorted((REPO_ROOT / "docs").rglob("*.md")),
        *sorted((REPO_ROOT / "dags").glob("*.py")),
    ]
    repeated = {
        str(path.relative_to(REPO_ROOT)): sorted(runbook_lines & _sentences(path.read_text(encoding="utf-8")))
        for path in others
        if path != RUNBOOK
    }
    assert {path: lines for path, lines in repeated.items() if lines} == {}
