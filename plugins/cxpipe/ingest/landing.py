"""Where a source's files land for a date, whether they are all there, and reading them.

``landing/<source>/<date>/<file>`` is an entity's main file (``<entity>.<format>``
in the contract as shipped); extra parts ``<stem>.<anything>.<format>`` are read
after it in name order.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from cxpipe.contracts import ContractError, Entity
from cxpipe.ingest.contract import load_contract
from cxpipe.ingest.decoding import UNDECODABLE, decode
from cxpipe.ingest.parsing import parse_csv, parse_jsonl
from cxpipe.settings import Settings

#: Columns reading adds beside the file's own: file name, start line, parse error, raw text.
INTERNAL_COLUMNS = frozenset({"_source_file", "_source_row", "_raw_error", "_raw"})


def landing_file(settings: Settings, entity: Entity, load_date: date) -> Path:
    """The entity's main landing file for a date (``<source>/<date>/<entity>.<format>``)."""
    return settings.landing_dir / entity.source / load_date.isoformat() / entity.file_name


def landing_files(settings: Settings, entity: Entity, load_date: date) -> list[Path]:
    """Every file of the entity for a date: the main file, then extra parts
    ``<stem>.<anything>.<format>`` in name order (later files win on duplicate keys)."""
    return entity_files(landing_file(settings, entity, load_date).parent, entity)


def entity_files(folder: Path, entity: Entity) -> list[Path]:
    """The entity's files in one date's ``folder``: the main file, then extra parts in name order."""
    main = folder / entity.file_name
    parts = sorted(folder.glob(f"{entity.file_stem}.*.{entity.file_format}")) if folder.is_dir() else []
    return ([main] if main.exists() else []) + [p for p in parts if p.is_file()]


def landing_ready(settings: Settings, source: str, day: date) -> bool:
    """True when every entity ``source`` delivers has at least one file for ``day``
    (entities the deployment's contract makes optional need none)."""
    entities = load_contract(settings).entities_of(source)
    return all(landing_files(settings, entity, day) for entity in entities if not entity.optional)


def read_file(entity: Entity, path: Path, declared: str | None) -> tuple[pd.DataFrame, str, bool]:
    """Decode and parse one file: its frame (``_source_file`` = its name), encoding and whether
    any bytes could not be decoded. A malformed header raises :class:`ContractError`."""
    text, encoding = decode(path.read_bytes(), declared)
    lossy = UNDECODABLE.search(text) is not None
    frame = parse_csv(text, str(path)) if entity.file_format == "csv" else parse_jsonl(text, str(path))
    frame.insert(0, "_source_file", path.name)
    return frame, encoding, lossy


def missing_columns(entity: Entity, frame: pd.DataFrame) -> list[str]:
    """The required columns a file with rows lacks (a header-only file lacks nothing)."""
    if not len(frame):
        return []
    present = set(frame.columns) - INTERNAL_COLUMNS
    return [c for c in entity.required_columns if c not in present]


def read_landing(entity: Entity, paths: list[Path], declared: str | None) -> tuple[pd.DataFrame, list[str], bool]:
    """Decode and parse ``paths`` into one frame (``_source_file`` names each row's file).

    ``declared`` is the encoding configured for the entity (``CX_ENCODING_…``), or None to detect it.

    Returns the frame, the encoding of each file and whether any bytes could not be
    decoded. A file that has rows but lacks a required column fails the whole source.
    """
    frames: list[pd.DataFrame] = []
    encodings: list[str] = []
    lossy = False
    for path in paths:
        frame, encoding, undecodable = read_file(entity, path, declared)
        encodings.append(encoding)
        lossy = lossy or undecodable
        missing = missing_columns(entity, frame)
        if missing:
            present = set(frame.columns) - INTERNAL_COLUMNS
            raise ContractError(
                str(path),
                f"required column(s) {', '.join(missing)} missing (found: {', '.join(sorted(present))})",
                f"Fix the {entity.source} export so it has every column in docs/contracts.md "
                f"({entity.source}.{entity.name}); nothing of this source was loaded for this date.",
            )
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return frame, encodings, lossy
