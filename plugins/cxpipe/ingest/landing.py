"""Where a source's files land for a date, whether they are all there, and reading them.

``landing/<source>/<date>/<file>`` is an entity's main file (``<entity>.<format>``
in the contract as shipped); extra parts ``<stem>.<part>.<format>`` (``<part>``:
letters, digits, ``-`` and ``_``) are read after it in name order. Any of them may be
gzip-compressed, named with ``.gz`` after the format (``orders.csv.gz``): it is read
as the file it holds.

The landing folder is a trust boundary: a landing file must be a regular file
whose real path lies inside the landing folder. A symbolic link (even to a file
inside), a directory, a pipe or a file reached through a linked folder is
refused with an error naming the path, and nothing of it is read. Files that
look like an entity's but do not match its name pattern (``orders.csv.bak``,
``orders (1).csv``, ``Orders.CSV``) are not read: :func:`stray_files` lists them
for the load audit and the log.
"""

from __future__ import annotations

import codecs
import gzip
import os
import re
import stat
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from cxpipe.contracts import ContractError, Entity
from cxpipe.ingest.contract import load_contract
from cxpipe.ingest.decoding import UNDECODABLE, decode
from cxpipe.ingest.parsing import (
    INTERNAL_COLUMNS,
    csv_header,
    json_path_values,
    parse_csv,
    parse_csv_piece,
    parse_jsonl,
)
from cxpipe.settings import DEFAULT_ENCODINGS, Settings

__all__ = [
    "INTERNAL_COLUMNS",
    "entity_files",
    "format_hint",
    "landing_file",
    "landing_files",
    "landing_ready",
    "missing_columns",
    "read_batches",
    "read_file",
    "read_landing",
    "stray_files",
]

#: What may stand between an entity's file stem and its format in the name of an extra part.
PART = r"[A-Za-z0-9][A-Za-z0-9_-]*"
#: The suffix of a gzip-compressed landing file, after its format.
GZIP = ".gz"


def landing_file(settings: Settings, entity: Entity, load_date: date) -> Path:
    """The entity's main landing file for a date (``<source>/<date>/<entity>.<format>``)."""
    return settings.landing_dir / entity.source / load_date.isoformat() / entity.file_name


def landing_files(settings: Settings, entity: Entity, load_date: date) -> list[Path]:
    """Every file of the entity for a date: the main file, then extra parts
    ``<stem>.<part>.<format>`` in name order (later files win on duplicate keys)."""
    return entity_files(landing_file(settings, entity, load_date).parent, entity)


def _pattern(entity: Entity) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(entity.file_stem)}(?:\.{PART})?\.{re.escape(entity.file_format)}(?:{GZIP})?")


def entity_files(folder: Path, entity: Entity) -> list[Path]:
    """The entity's files in one date's ``folder``: the main file, then extra parts in name order.

    Names are matched exactly, links and directories included (reading them raises a clear
    error rather than skipping them silently)."""
    if not folder.is_dir():
        return []
    pattern = _pattern(entity)
    names = sorted(name for name in (p.name for p in folder.iterdir()) if pattern.fullmatch(name))
    main = [name for name in names if name.removesuffix(GZIP) == entity.file_name]
    return [folder / name for name in main + [n for n in names if n not in main]]


#: The formats an entity may be delivered in (the contract's, or the overrides' ``format``).
FORMATS = ("csv", "jsonl")


def format_hint(name: str, entities: Sequence[Entity]) -> str:
    """What to do about a file named like an entity's file in another format (``posts.csv`` where the
    contract reads ``posts.jsonl``), or ``""`` when ``name`` is no such file."""
    for entity in entities:
        for other in FORMATS:
            if other == entity.file_format:
                continue
            pattern = rf"{re.escape(entity.file_stem)}(?:\.{PART})?\.{other}(?:{GZIP})?"
            if re.fullmatch(pattern, name):
                return (
                    f"{entity.source} {entity.name} are read from {entity.file_name}; for exports in {other}, "
                    f"declare sources.{entity.source}.entities.{entity.name}.format: {other} in "
                    "CX_CONTRACT_OVERRIDES"
                )
    return ""


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
        data = fh.read()
    return _gunzipped(path, data) if path.name.endswith(GZIP) else data


def _gunzipped(path: Path, data: bytes) -> bytes:
    """The bytes a ``.gz`` landing file holds (every gzip member, as ``gzip -d`` gives them)."""
    redeliver = (
        "Re-deliver the file compressed whole with gzip (or uncompressed, without .gz); "
        "nothing of this source was loaded."
    )
    try:
        return gzip.decompress(data)
    except gzip.BadGzipFile:
        raise ContractError(str(path), "is named .gz but is not gzip-compressed", redeliver) from None
    except EOFError:
        raise ContractError(str(path), "ends inside its gzip data (the file was cut off)", redeliver) from None
    except zlib.error as exc:
        raise ContractError(str(path), f"holds damaged gzip data ({exc})", redeliver) from None


def kept_undecodable(data: bytes, text: str, encoding: str) -> bool:
    """Whether decoding ``data`` as ``encoding`` into ``text`` kept undecodable bytes (as :data:`UNDECODABLE`
    characters). A file that decodes without error is not lossy even when its text holds such a character
    itself (that value is quarantined as a private-use character, whatever the batch it is read in); the
    decoding is tried again only for text holding one (``isascii`` is a flag of the string)."""
    if text.isascii() or UNDECODABLE.search(text) is None:
        return False
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    try:
        body.decode(encoding)
    except UnicodeDecodeError:
        return True
    return False


def read_file(
    entity: Entity, path: Path, declared: str | Sequence[str] | None, root: Path | None = None
) -> tuple[pd.DataFrame, str, bool]:
    """Decode and parse one file: its frame (``_source_file`` = its name), encoding and whether
    any bytes could not be decoded. ``root`` is the landing folder the file must lie in (default:
    its own folder). A malformed header or a file that is not a regular file raises
    :class:`ContractError`."""
    data = read_bytes(path, root if root is not None else path.parent)
    text, encoding = decode(data, declared, str(path))
    lossy = kept_undecodable(data, text, encoding)
    if entity.file_format == "csv":
        frame = parse_csv(text, str(path), entity.names_in_files, entity.delimiter, entity.source)
    else:
        frame = _keys_as_columns(entity, parse_jsonl(text, str(path)))
    frame.insert(0, "_source_file", path.name)
    return frame, encoding, lossy


def _keys_as_columns(entity: Entity, frame: pd.DataFrame) -> pd.DataFrame:
    """JSON Lines keys that are a column's aliases read as the column: line by line, the first of the
    column's own key and its aliases (in the contract's order) that the line has. An alias with dots
    (``user.screen_name``) is a path into a nested object."""
    for key, column in entity.names_in_files.items():
        if key == column:
            continue
        if key not in frame.columns:
            top, dot, path = key.partition(".")
            if not dot or top not in frame.columns:
                continue
            frame = frame.assign(**{key: json_path_values(frame[top], path)})
        if column in frame.columns:
            frame[column] = frame[column].where(frame[column].notna(), frame[key])
            frame = frame.drop(columns=key)
        else:
            frame = frame.rename(columns={key: column})
    return frame


def missing_columns(entity: Entity, frame: pd.DataFrame) -> list[str]:
    """The required columns a file lacks (a file of no bytes at all, or JSON Lines of which no line
    could be read, lacks nothing: its lines are quarantined)."""
    return _missing(entity, *_frame_columns(frame))


def _frame_columns(frame: pd.DataFrame) -> tuple[set[str], bool]:
    """A read file's columns, and whether none of its lines could be read (or it has none)."""
    unreadable = not len(frame) or bool((frame["_raw_error"].fillna("") != "").all())
    return set(frame.columns) - INTERNAL_COLUMNS, unreadable


def _missing(entity: Entity, present: set[str], unreadable: bool) -> list[str]:
    if not present and unreadable:
        return []
    return [c.name for c in entity.columns if c.required and c.default is None and c.name not in present]


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
        _check_columns(entity, path, *_frame_columns(frame))
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return frame, encodings, lossy, (lines, blank)


#: How much landing text ingest parses and checks at a time (about; pieces end at a record boundary).
BATCH_BYTES = 32 * 2**20


@dataclass
class Batch:
    """Records of one piece of one landing file, parsed: :func:`read_batches` yields these."""

    #: The records as :func:`read_file` returns them (``_source_file``, line numbers, string columns).
    frame: pd.DataFrame
    path: Path
    #: The encoding the file was read with.
    encoding: str
    #: Whether the piece holds bytes that could not be decoded.
    lossy: bool
    #: Physical lines of the piece (after the header) and blank lines among them.
    lines: int
    blank: int


#: Yielded by :func:`read_batches` when the batches of the current file given so far must be dropped: the
#: file turned out to need reading whole, and its batches come again.
RESTART = object()


def _pieces(buffer: str | bytes, start: int, size: int, quoted: bool) -> Iterator[tuple[int, int]]:
    """(start, end) of consecutive pieces of ``buffer[start:]`` of about ``size``, each ending after a line
    break, and, for CSV (``quoted``), after an even number of quote characters: a record boundary of
    well-formed CSV (a malformed file's pieces are read whole again when a piece is not well formed)."""
    newline, quote = ("\n", '"') if isinstance(buffer, str) else (b"\n", b'"')
    end_of = len(buffer)
    while start < end_of:
        cut = buffer.find(newline, min(start + size, end_of) - 1)  # type: ignore[arg-type]
        cut = end_of if cut < 0 else cut + 1
        if quoted:
            # (a piece without a quote character, the usual case, is found by one fast search)
            quotes = buffer.count(quote, start, cut) if buffer.find(quote, start, cut) >= 0 else 0  # type: ignore[arg-type]
            while quotes % 2 and cut < end_of:
                following = buffer.find(newline, cut)  # type: ignore[arg-type]
                following = end_of if following < 0 else following + 1
                quotes += buffer.count(quote, cut, following)  # type: ignore[arg-type]
                cut = following
        yield start, cut
        start = cut


def _utf8_alone(declared: str | Sequence[str] | None, data: bytes) -> bool:
    """Whether :func:`decode` reads ``data`` as UTF-8 without a byte-order mark as soon as it is valid
    UTF-8 (several candidates, UTF-8 among them), so its pieces can be decoded one at a time."""
    candidates = DEFAULT_ENCODINGS if declared is None else (declared,) if isinstance(declared, str) else declared
    return (
        len(candidates) > 1
        and any(codecs.lookup(c).name == "utf-8" for c in candidates)
        and not data.startswith(codecs.BOM_UTF8)
    )


def _utf8_pieces(data: bytes, size: int, quoted: bool) -> Iterator[tuple[str, bytes | None]]:
    """The pieces of UTF-8 ``data`` (see :func:`_pieces`), each decoded, beside its bytes."""
    for start, end in _pieces(data, 0, size, quoted):
        piece = data[start:end]
        yield piece.decode("utf-8"), piece


class _ReadWholeError(Exception):
    """A piece of a file cannot be read on its own: the file is read whole."""


def _piece_batches(
    entity: Entity, path: Path, pieces: Iterator[tuple[str, bytes | None]], encoding: str, lossy: bool
) -> Iterator[Batch]:
    """Each piece's batch; a piece is its text and, for a UTF-8 file, the bytes it was decoded from (the
    readers then take those rather than encoding the text again). ``lossy`` is the whole file's
    :func:`kept_undecodable`, so a row's reasons do not depend on the batch it falls in."""
    header: list[str] | None = None
    line = 1
    for number, (text, data) in enumerate(pieces):
        if entity.file_format == "csv":
            start = 0
            if number == 0:
                try:
                    found = csv_header(text, str(path), entity.names_in_files, entity.delimiter, entity.source)
                except ContractError:
                    found = None
                if found is None:
                    raise _ReadWholeError
                header, header_lines, start = found
                line = header_lines + 1
            assert header is not None
            if start and data is not None:
                data = data[len(text[:start].encode("utf-8")) :]
            frame = parse_csv_piece(text[start:] if start else text, line, header, data, entity.delimiter)
            if frame is None:
                raise _ReadWholeError
        else:
            frame = _keys_as_columns(entity, parse_jsonl(text, str(path), line, data))
        lines = int(frame.attrs["lines"])
        line += lines
        frame.insert(0, "_source_file", path.name)
        yield Batch(frame, path, encoding, lossy, lines, int(frame.attrs["blank_lines"]))


def _file_batches(
    entity: Entity, path: Path, declared: str | Sequence[str] | None, root: Path, size: int
) -> Iterator[Batch | object]:
    data = read_bytes(path, root)
    quoted = entity.file_format == "csv"
    whole = len(data) <= size  # a file of one batch is read whole, as read_file reads it
    if not whole and _utf8_alone(declared, data):
        given = 0
        try:
            # every piece decodes as UTF-8 without error, or the file is decoded whole below: never lossy
            for batch in _piece_batches(entity, path, _utf8_pieces(data, size, quoted), "utf-8", False):
                given += 1
                yield batch
            return
        except UnicodeDecodeError:  # not valid UTF-8 after all: decoded whole, then read in pieces
            pass
        except _ReadWholeError:
            whole = True
        if given:
            yield RESTART
    text, encoding = decode(data, declared, str(path))
    lossy = kept_undecodable(data, text, encoding)
    del data
    if not whole and len(text) > size:
        given = 0
        try:
            texts = ((text[a:b], None) for a, b in _pieces(text, 0, size, quoted))
            for batch in _piece_batches(entity, path, texts, encoding, lossy):
                given += 1
                yield batch
            return
        except _ReadWholeError:
            if given:
                yield RESTART
    if entity.file_format == "csv":
        frame = parse_csv(text, str(path), entity.names_in_files, entity.delimiter, entity.source)
    else:
        frame = _keys_as_columns(entity, parse_jsonl(text, str(path)))
    frame.insert(0, "_source_file", path.name)
    lines, blank = int(frame.attrs.get("lines", 0)), int(frame.attrs.get("blank_lines", 0))
    # about ``size`` bytes of text per batch: the checks' memory is bounded by the batch
    rows = max(1, len(frame) * size // max(len(text), 1)) if len(text) > size else max(len(frame), 1)
    del text
    for begin in range(0, max(len(frame), 1), rows):
        last = begin + rows >= len(frame)
        yield Batch(frame.iloc[begin : begin + rows], path, encoding, lossy, lines if last else 0, blank if last else 0)


def read_batches(
    entity: Entity,
    paths: list[Path],
    declared: str | Sequence[str] | None,
    root: Path | None = None,
    size: int = BATCH_BYTES,
) -> Iterator[Batch | object]:
    """The records of ``paths`` in file and line order, in batches of about ``size`` bytes of text.

    A file is decoded as :func:`read_file` decodes it; valid UTF-8 one piece at a time. Its pieces
    end at line breaks (CSV: outside quotes) and are parsed on their own when that reads them as
    :func:`parse_csv` / :func:`parse_jsonl` read the whole file (the physical line numbers continue
    from piece to piece); otherwise :data:`RESTART` is yielded, and the file is read whole and its
    records handed out in batches of rows. Each file's required columns are checked once it is read
    (a :class:`ContractError` as in :func:`read_landing`).
    """
    for path in paths:
        present: set[str] = set()
        unreadable = True  # no record of the file could be read (or it has none)
        for batch in _file_batches(entity, path, declared, root if root is not None else path.parent, size):
            if batch is RESTART:
                present, unreadable = set(), True
                yield batch
                continue
            assert isinstance(batch, Batch)
            frame = batch.frame
            present.update(set(frame.columns) - INTERNAL_COLUMNS)
            if len(frame) and not (frame["_raw_error"].fillna("") != "").all():
                unreadable = False
            yield batch
        _check_columns(entity, path, present, unreadable)


def _check_columns(entity: Entity, path: Path, present: set[str], unreadable: bool) -> None:
    missing = _missing(entity, present, unreadable)
    if not missing:
        return
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
