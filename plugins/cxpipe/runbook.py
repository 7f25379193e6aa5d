"""The operators' runbook, kept once in ``docs/runbook.md`` and shown in each DAG's docs.

The runbook is Markdown; each ``## `` heading starts a section. DAG files build their
``doc_md`` from a header of their own (schedule, reads, writes, tasks) and the runbook
sections that concern them, so the Airflow UI and the docs never disagree.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

RUNBOOK_RELATIVE = Path("docs") / "runbook.md"


def sections(text: str) -> dict[str, str]:
    """The ``## `` sections of a Markdown text: title -> body (headings inside code fences don't count)."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            current = found.setdefault(line[3:].strip(), [])
            continue
        if current is not None:
            current.append(line)
    return {title: "\n".join(lines).strip() for title, lines in found.items()}


def dag_doc(project_dir: Path, header: str, titles: list[str]) -> str:
    """``header`` followed by the runbook sections ``titles`` (as ``####`` sub-headings).

    A runbook that is missing (an image built without ``docs/``) gives the header and a
    pointer to the file; a title the runbook lacks raises, so a renamed section is caught
    when the DAG is parsed (and by the DAG tests).
    """
    path = project_dir / RUNBOOK_RELATIVE
    if not path.is_file():
        log.warning("runbook %s not found; DAG docs show only their header", path)
        return f"{header.strip()}\n\nRunbook: `{RUNBOOK_RELATIVE}` in the cxpipe repository."
    found = sections(path.read_text(encoding="utf-8"))
    if missing := [t for t in titles if t not in found]:
        raise KeyError(f"{path} has no section(s) {missing}; its sections are {sorted(found)}")
    parts = [header.strip(), f"*From the runbook (`{RUNBOOK_RELATIVE}`):*"]
    parts += [f"#### {title}\n\n{found[title]}" for title in titles]
    return "\n\n".join(parts) + "\n"
