"""Landing-file bytes -> text, in an encoding the source declares.

A source (or entity) declares one encoding (``CX_ENCODING_<SOURCE>[_<ENTITY>]=cp1251``),
used as is, or several (``=utf-8,cp1252``) that detection chooses among; without a
declaration detection chooses among :data:`~cxpipe.settings.DEFAULT_ENCODINGS`. Never
any other code page: a Latin-1 file is not read as cp1250 because a detector found it
likelier.

A file is valid UTF-8 (or UTF-8 with a byte-order mark) first of all when UTF-8 is
among the candidates. Text read with any other encoding is checked for mojibake:
runs of non-ASCII characters that are really UTF-8 bytes read as single characters
(``Ã¶`` for ``ö``). A declared encoding that produces them fails the file naming the
line; a detected one gives way to UTF-8, so the rows in another encoding are
quarantined rather than garbled.

Bytes that cannot be decoded are not dropped or replaced: they are kept as
private-use characters (:data:`UNDECODABLE`), so validation can quarantine the
rows that hold them and the quarantine can show the original bytes as ``\\xNN``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence

import charset_normalizer

from cxpipe.contracts import ContractError
from cxpipe.settings import DEFAULT_ENCODINGS

#: Bytes that cannot be decoded are kept as private-use characters U+F700 + byte, so the
#: rows holding them can be found, quarantined and their raw bytes shown as ``\\xNN``.
UNDECODABLE = re.compile("[\uf700-\uf7ff]")
_KEEP_BYTES = "cxpipe-keep-bytes"
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f\uf700-\uf7ff]{2,}")
#: Share of a text's distinct non-ASCII runs that may read as UTF-8 by chance before it counts as mojibake.
_MOJIBAKE_SHARE = 0.1


def _keep_bytes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(0xF700 + b) for b in bad), error.end


codecs.register_error(_KEEP_BYTES, _keep_bytes)


def show_undecodable(text: str) -> str:
    """``text`` with each kept undecodable byte shown as a ``\\xNN`` escape of the original byte."""
    return UNDECODABLE.sub(lambda m: f"\\x{ord(m.group()) - 0xF700:02x}", text)


def _is_utf8(name: str) -> bool:
    return codecs.lookup(name).name in ("utf-8", "utf-8-sig")


def mojibake_line(text: str, encoding: str) -> int | None:
    """The first line of ``text`` (read as ``encoding``) holding UTF-8 read as ``encoding``, when
    enough of its non-ASCII runs are such mojibake to rule out chance; else None."""
    if _is_utf8(encoding):
        return None
    runs: dict[str, int] = {}
    for match in _NON_ASCII_RUN.finditer(text):
        runs.setdefault(match.group(), match.start())
    garbled: list[int] = []
    for run, start in runs.items():
        try:
            run.encode(encoding).decode("utf-8")
        except (UnicodeError, LookupError):
            continue
        garbled.append(start)
    if not garbled or len(garbled) < _MOJIBAKE_SHARE * len(runs):
        return None
    return text.count("\n", 0, min(garbled)) + 1


def _candidates(declared: str | Sequence[str] | None) -> tuple[str, ...]:
    if declared is None:
        return DEFAULT_ENCODINGS
    return (declared,) if isinstance(declared, str) else tuple(declared)


def _utf8_counts(data: bytes) -> tuple[int, int]:
    """(bytes that are not UTF-8 plus private-use characters of :data:`UNDECODABLE`, other non-ASCII
    characters) of ``data`` read as UTF-8 with each undecodable byte kept as one character: what
    reading it with the keep-bytes handler and counting would give, counted by the codecs in C
    (undecodable bytes become lone surrogates, which UTF-8 cannot encode) rather than one
    handler call per undecodable byte."""
    try:
        text = data.decode("utf-8", errors="surrogateescape")
    except UnicodeDecodeError:  # an undecodable run holding an ASCII byte: count the slow way
        text = data.decode("utf-8", errors=_KEEP_BYTES)
        undecodable = len(UNDECODABLE.findall(text))
    else:
        escaped = len(text) - len(text.encode("utf-8", errors="ignore").decode("utf-8"))
        undecodable = escaped + len(UNDECODABLE.findall(text))
    return undecodable, len(text) - len(text.encode("ascii", errors="ignore")) - undecodable


#: Byte-order marks of the wide Unicode encodings (UTF-32's first: it starts with UTF-16's little-endian mark).
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _wide_bom(data: bytes) -> str | None:
    """``utf-16`` or ``utf-32`` when ``data`` starts with that encoding's byte-order mark (spreadsheet
    programs save "Unicode text" so), else None."""
    return next((name for bom, name in _WIDE_BOMS if data.startswith(bom)), None)


def decode(data: bytes, declared: str | Sequence[str] | None = None, path: str = "") -> tuple[str, str]:
    """Return the text of a landing file and the encoding it was read with.

    A UTF-16 or UTF-32 byte-order mark decides the encoding (a declared encoding must then be that
    one). One declared encoding is used as is (a UTF-8 byte-order mark is dropped). Among several
    (or the defaults): a UTF-8 byte-order mark or valid UTF-8 (also UTF-8 with a few corrupt
    bytes among much valid non-ASCII text) is UTF-8 when UTF-8 is a candidate; otherwise
    charset-normalizer chooses among the other candidates. Bytes that cannot be decoded are
    kept as private-use characters, so the rows holding them are quarantined rather than lost
    or silently altered. Raises :class:`ContractError` when a declared encoding turns the
    file's UTF-8 text into mojibake.
    """
    candidates = _candidates(declared)
    wide = _wide_bom(data)
    if wide is not None:
        if declared is not None and not any(codecs.lookup(c).name.startswith(wide) for c in candidates):
            raise ContractError(
                path,
                f"starts with a {wide.upper()} byte-order mark, but its encoding is declared as "
                f"{', '.join(candidates)}",
                f"Declare {wide} (CX_ENCODING_<SOURCE>[_<ENTITY>]) or re-export the file as UTF-8; nothing of "
                "this source was loaded.",
            )
        return data.decode(wide, errors=_KEEP_BYTES), wide
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    if len(candidates) == 1:
        (encoding,) = candidates
        text = body.decode(encoding, errors=_KEEP_BYTES)
        line = mojibake_line(text, encoding)
        if line is not None:
            raise ContractError(
                path,
                f"line {line}: read as the declared {encoding}, the text holds UTF-8 characters "
                "misread as several characters each (mojibake)",
                "Declare the file's real encoding (CX_ENCODING_<SOURCE>[_<ENTITY>], e.g. utf-8) or re-export "
                "it; nothing of this source was loaded.",
            )
        return text, encoding
    utf8 = any(_is_utf8(c) for c in candidates)
    if utf8 and bom:
        return body.decode("utf-8", errors=_KEEP_BYTES), "utf-8-sig"
    if utf8:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    undecodable, non_ascii = _utf8_counts(data)
    if utf8 and non_ascii >= 10 * undecodable:
        return data.decode("utf-8", errors=_KEEP_BYTES), "utf-8"
    others = [c for c in candidates if not _is_utf8(c)]
    best = charset_normalizer.from_bytes(data, cp_isolation=others).best() if others else None
    if best is None:  # no verdict: the first other candidate that decodes every byte, else UTF-8
        for other in others:
            try:
                text = data.decode(other)
            except UnicodeDecodeError:
                continue
            if not (utf8 and mojibake_line(text, other) is not None):
                return text, other
        fallback = "utf-8" if utf8 else others[0]
        return data.decode(fallback, errors=_KEEP_BYTES), fallback
    text = data.decode(best.encoding, errors=_KEEP_BYTES)
    if utf8 and mojibake_line(text, best.encoding) is not None:
        # UTF-8 text among bytes of another encoding: those rows are quarantined
        return data.decode("utf-8", errors=_KEEP_BYTES), "utf-8"
    return text, best.encoding
