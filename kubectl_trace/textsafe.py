"""The one boundary where text from the cluster meets a terminal.

Log lines, Event messages, annotations, env values and image names are data written by
whoever controls an app or can create an object; on a terminal, an ESC in them could set
the window title, write the clipboard (OSC 52), clear the screen or plant a hidden link
(OSC 8). Every human-readable output shows such characters visibly instead, with the
convention prompt_toolkit (and so the dashboard, and Vim) uses:

* C0 controls except tab and newline, and DEL → caret notation: ESC ``^[``, NUL ``^@``,
  BS ``^H``, DEL ``^?``; a CR that does not end the line → ``^M`` (it would let a line
  overwrite itself); a CR right before a newline or at the end is dropped (CRLF);
* C1 controls U+0080–U+009F → ``<9b>`` (the code point in hex, in angle brackets);
* bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) → ``<202e>``,
  so text cannot reorder what follows it;
* invalid UTF-8 (bytes) and lone surrogates (strings decoded from JSON) → U+FFFD;
* a line longer than ``limit`` characters is cut, with a marker saying how long it was.

Our own colours are added after this step. ``-o json`` keeps the text whole and escapes
what JSON itself leaves raw (DEL, C1, the bidi controls) with :func:`json_escape_controls`.
"""

from __future__ import annotations

import re

__all__ = [
    "LINE_LIMIT",
    "json_escape_controls",
    "safe_bytes",
    "safe_text",
    "visible",
]

LINE_LIMIT = 4096
"""Characters of one line shown on a terminal; longer lines are cut with a marker."""


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):
        if code not in (0x09, 0x0A):
            table[code] = "^" + chr(code + 0x40)
    table[0x7F] = "^?"
    for code in range(0x80, 0xA0):
        table[code] = f"<{code:02x}>"
    for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)):
        table[code] = f"<{code:04x}>"
    for code in range(0xD800, 0xE000):
        table[code] = "\ufffd"
    return table


_TABLE = _build_table()
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_JSON_RAW = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def visible(text: str) -> str:
    """``text`` with every control character shown (no cutting); fast when there is none."""
    if text.isprintable() or not _UNSAFE.search(text):
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if text.endswith("\r"):
            text = text[:-1]
    return text.translate(_TABLE)


def _cut(line: str, limit: int) -> str:
    size = len(line.encode("utf-8", "surrogatepass"))
    return f"{line[:limit]} …[line cut: {size} bytes]"


def safe_text(text: str, *, limit: int | None = LINE_LIMIT) -> str:
    """``text`` safe for a terminal: controls shown visibly, lines over ``limit`` cut."""
    if limit is not None and len(text) > limit:
        text = "\n".join(_cut(line, limit) if len(line) > limit else line for line in text.split("\n"))
    return visible(text)


def safe_bytes(data: bytes, *, limit: int | None = LINE_LIMIT) -> str:
    """Bytes from the cluster (a log chunk) as safe text; invalid UTF-8 becomes U+FFFD."""
    return safe_text(data.decode("utf-8", "replace"), limit=limit)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_escape_controls(encoded: str) -> str:
    r"""JSON text (from ``ensure_ascii=False``) with DEL, C1, bidi controls, surrogates as ``\uXXXX``.

    JSON escapes only U+0000–U+001F; the others would reach a terminal raw. They can only
    occur inside strings, so escaping them keeps the document valid and its values equal.
    """
    if encoded.isascii():  # the common case: one quick scan (JSON has escaped C0 already)
        return encoded if "\x7f" not in encoded else _JSON_RAW.sub(_escape, encoded)
    if encoded.isprintable() or not _JSON_RAW.search(encoded):
        return encoded
    return _JSON_RAW.sub(_escape, encoded)
