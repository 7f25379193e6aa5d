"""Landing-file bytes -> text: the declared, BOM-marked, UTF-8 or detected encoding.

Bytes that cannot be decoded are not dropped or replaced: they are kept as
private-use characters (:data:`UNDECODABLE`), so validation can quarantine the
rows that hold them and the quarantine can show the original bytes as ``\\xNN``.
"""

from __future__ import annotations

import codecs
import re

import charset_normalizer

#: Bytes that cannot be decoded are kept as private-use characters U+F700 + byte, so the
#: rows holding them can be found, quarantined and their raw bytes shown as ``\\xNN``.
UNDECODABLE = re.compile("[\uf700-\uf7ff]")
_KEEP_BYTES = "cxpipe-keep-bytes"


def _keep_bytes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(0xF700 + b) for b in bad), error.end


codecs.register_error(_KEEP_BYTES, _keep_bytes)


def show_undecodable(text: str) -> str:
    """``text`` with each kept undecodable byte shown as a ``\\xNN`` escape of the original byte."""
    return UNDECODABLE.sub(lambda m: f"\\x{ord(m.group()) - 0xF700:02x}", text)


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Return the text of a landing file and the encoding it was read with.

    A declared encoding wins. Otherwise a UTF-8 byte-order mark means UTF-8; text
    that is valid UTF-8 (or UTF-8 with a few corrupt bytes among much valid
    non-ASCII text) is UTF-8; anything else is detected with charset-normalizer.
    Bytes that cannot be decoded are kept as private-use characters, so the rows
    holding them are quarantined rather than lost or silently altered.
    """
    if declared:
        body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
        return body.decode(declared, errors=_KEEP_BYTES), declared
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors=_KEEP_BYTES), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", errors=_KEEP_BYTES)
    undecodable = len(UNDECODABLE.findall(lenient))
    non_ascii = len(lenient) - len(lenient.encode("ascii", errors="ignore")) - undecodable
    if non_ascii >= 10 * undecodable:
        return lenient, "utf-8"
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        return lenient, "utf-8"
    return data.decode(best.encoding, errors=_KEEP_BYTES), best.encoding
