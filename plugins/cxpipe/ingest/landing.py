"""Where a source's files land for a date, whether they are all there, and reading them.

``landing/<source>/<date>/<file>`` is an entity's main file (``<entity>.<format>``
in the contract as shipped); extra parts ``<stem>.<part>.<format>`` (``<part>``:
letters, digits, ``-`` and ``_``) are read after it in name order.

The landing folder is a trust boundary: a landing file must be a regular file
whose real path lies inside the landing folder. A symbolic link (even to a file
inside), a directory, a pipe or a file reached through a linked folder is
refused with an error naming the path, and nothing of it is read. Files that
look like an entity's but do not match its name pattern (``orders.csv.bak``,
``orders (1).csv``, ``Orders.CSV``) are not read: :func:`stray_files` lists them
for the load audit and the log.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd

from cxpipe.contracts import ContractError, Entity
from cxpipe.ingest.contract import load_contract
from cxpipe.ingest.decoding import UNDECODABLE, decode
from cxpipe.ingest.parsing import INTERNAL_COLUMNS, parse_csv, parse_jsonl
from cxpipe.settings import Settings

__all__ = [
    "INTERNAL_COLUMNS",
    "entity_files",
    "landing_file",
    "landing_files",
    "landing_ready",
    "missing_columns",
    "read_file",
    "read_landing",
    "stray_files",
]

#: What may stand between an entity's file stem and its format in the name of an extra part.
PART = r"[A-Za-z0-9][A-Za-z0-9_-]*"


def landing_file(settings: Settings, entity: Entity, load_date: date) -> Path:
    """The entity's main landing file for a date (``<source>/<date>/<entity>.<format>``)."""
    return settings.landing_dir / entity.source / load_date.isoformat() / entity.file_name


def landing_files(settings: Settings, entity: Entity, load_date: date) -> list[Path]:
    """Every file of the entity for a date: the main file, then extra parts
    ``<stem>.<part>.<format>`` in name order (later files win on duplicate keys)."""
    return entity_files(landing_file(settings, entity, load_date).parent, entity)


def _pattern(entity: Entity) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(entity.file_stem)}(?:\.{PART})?\.{re.escape(entity.file_format)}")


def entity_files(folder: Path, entity: Entity) -> list[Path]:
    """The entity's files in one date's ``folder``: the main file, then extra parts in name order.

    Names are matched exactly, links and directories included (reading them raises a clear
    error rather than skipping them silently)."""
    if not folder.is_dir():
        return []
    pattern = _pattern(entity)
    names = sorted(name for name in (p.name for p in folder.iterdir()) if pattern.fullmatch(name))
    main = [name for name in names if name == entity.file_name]
    return [folder / name for name in main + [n for n in names if n != entity.file_name]]


def stray_files(folder: Path, entities: Sequence[Entity], entity: Entity) -> list[str]:
    """Names in ``folder`` that look like ``entity``'s files but match no entity's name pattern
    (``orders.csv.bak``, ``orders (1).csv``): reported, never read."""
    if not folder.is_dir():
        return []
    patterns = [_pattern(e) for e in entities]
    stem = entity.file_stem.lower()
    return sorted(
        name
        for name in (p.name for p in folder.iterdir())
        if name.lstrip(".~").lower().startswith(stem) and not any(p.fullmatch(name) for p in patterns)
    )


def landing_ready(settings: Settings, source: str, day: date) -> bool:
    """True when every entity ``source`` delivers has at least one file for ``day``
    (entities the deployment's contract makes optional need none)."""
    entities = load_contract(settings).entities_of(source)
    return all(landing_files(settings, entity, day) for entity in entities if not entity.optional)


def read_bytes(path: Path, root: Path) -> bytes:
    """The bytes of a landing file that is a regular file inside ``root``; raises
    :class:`ContractError` naming the path otherwise (links are never followed)."""
    refuse = "Landing files must be regular files inside the landing folder; nothing of this source was loaded."
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        raise ContractError(str(path), f"cannot be read ({exc.strerror or type(exc).__name__})", refuse) from None
    if stat.S_ISLNK(mode):
        raise ContractError(str(path), "is a symbolic link; links in the landing folder are not followed", refuse)
    if stat.S_ISDIR(mode):
        raise ContractError(str(path), "is a directory, not a file", refuse)
    if not stat.S_ISREG(mode):
        raise ContractError(str(path), "is not a regular file (a pipe, socket or device)", refuse)
    if not path.resolve().is_relative_to(root.resolve()):
        raise ContractError(str(path), f"lies outside {root} (a folder on its path is a link)", refuse)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise ContractError(str(path), f"cannot be read ({exc.strerror or type(exc).__name__})", refuse) from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ContractError(str(path), "is not a regular file", refuse)
        return fh.read()


def read_file(
    entity: Entity, path: Path, declared: str | Sequence[str] | None, root: Path | None = None
) -> tuple[pd.DataFrame, str, bool]:
    """Decode and parse one file: its frame (``_source_file`` = its name), encoding and whether
    any bytes could not be decoded. ``root`` is the landing folder the file must lie in (default:
    its own folder). A malformed header or a file that is not a regular file raises
    :class:`ContractError`."""
    data = read_bytes(path, root if root is not None else path.parent)
    text, encoding = decode(data, declared, str(path))
    lossy = not text.isascii() and UNDECODABLE.search(text) is not None  # isascii: a flag of the string
    if entity.file_format == "csv":
        frame = parse_csv(text, str(path), entity.column_names)
    else:
        frame = parse_jsonl(text, str(path))
    frame.insert(0, "_source_file", path.name)
    return frame, encoding, lossy


def missing_columns(entity: Entity, frame: pd.DataFrame) -> list[str]:
    """The required columns a file lacks (a file of no bytes at all, or JSON Lines of which no line
    could be read, lacks nothing: its lines are quarantined)."""
    present = set(frame.columns) - INTERNAL_COLUMNS
    if not present and (not len(frame) or (frame["_raw_error"].fillna("") != "").all()):
        return []
    return [c for c in entity.required_columns if c not in present]


def read_landing(
    entity: Entity, paths: list[Path], declared: str | Sequence[str] | None, root: Path | None = None
) -> tuple[pd.DataFrame, list[str], bool, tuple[int, int]]:
    """Decode and parse ``paths`` into one frame (``_source_file`` names each row's file).

    ``declared`` is the encoding (or the encodings to detect among) configured for the entity
    (``CX_ENCODING_…``), or None for the default candidates. ``root`` is the landing folder.

    Returns the frame, the encoding of each file, whether any bytes could not be decoded and
    (physical lines after the headers, blank lines among them). A file that lacks a required
    column fails the whole source.
    """
    frames: list[pd.DataFrame] = []
    encodings: list[str] = []
    lossy = False
    lines = blank = 0
    for path in paths:
        frame, encoding, undecodable = read_file(entity, path, declared, root)
        encodings.append(encoding)
        lossy = lossy or undecodable
        lines += int(frame.attrs.get("lines", 0))
        blank += int(frame.attrs.get("blank_lines", 0))
        missing = missing_columns(entity, frame)
        if missing:
            present = set(frame.columns) - INTERNAL_COLUMNS
            known = sorted(present & set(entity.column_names))
            others = len(present) - len(known)
            found = ", ".join(known) or "none of the contract's columns"
            raise ContractError(
                str(path),
                ("line 1 (header): " if entity.file_format == "csv" else "")
                + f"required column(s) {', '.join(missing)} missing (found: {found}"
                + (f"; and {others} other column{'s' if others > 1 else ''})" if others else ")"),
                f"Fix the {entity.source} export so it has every column in docs/contracts.md "
                f"({entity.source}.{entity.name}); nothing of this source was loaded for this date.",
            )
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return frame, encodings, lossy, (lines, blank)
