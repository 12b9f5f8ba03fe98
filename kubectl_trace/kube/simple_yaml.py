"""A reader for the plain YAML that kubeconfig files are made of, without importing PyYAML.

Importing PyYAML costs ~35 ms (it compiles its resolver's regular expressions), a fifth of
a small command's whole run. The kubeconfigs that ``kubectl config``, cloud CLIs and our
sandbox write use a small part of YAML: block mappings and sequences, plain and quoted
one-line scalars, ``{}`` and ``[]``, comments. ``parse(text)`` reads exactly that part
and returns None for anything else (anchors, tags, block or multi-line scalars, flow
collections, numbers, dates, escapes…), so the caller falls back to PyYAML: the result is
either what ``yaml.safe_load`` gives or nothing. A JSON document is read with ``json``.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["parse"]

# A key we read ourselves: letters, digits and - _ . / (every key kubectl writes).
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*\Z")
# A plain scalar we read as a string: it must not start with an indicator, a digit, a sign
# or a dot (numbers, dates) — a dash is fine before a letter or a dash (``--flag``) — and
# must not hold ": " or " #" (a mapping, a comment).
_PLAIN = re.compile(r"(?:[A-Za-z_/$]|-[A-Za-z_-])[^\t\n]*\Z")
# YAML 1.1 words PyYAML's safe loader resolves to something else than a string.
_WORDS: dict[str, Any] = {
    **{w: True for w in ("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "y", "Y")},
    **{w: False for w in ("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "n", "N")},
    **{w: None for w in ("null", "Null", "NULL", "~")},
}
_AMBIGUOUS_WORDS = frozenset({"y", "Y", "n", "N"})  # strings for PyYAML, bools for YAML 1.1 specs
# Characters PyYAML refuses (its reader accepts printable text only).
# Line breaks for YAML besides "\n" (a lone "\r" too).
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029]")
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")


class _Unsupported(Exception):
    """The text uses YAML this reader leaves to PyYAML."""


def parse(text: str) -> Any | None:
    """The document in ``text`` when it is plain enough to read here, else None.

    An empty document gives None too (PyYAML gives None as well). Never raises.
    """
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            return json.loads(text)
        except ValueError:
            return None
    if _UNPRINTABLE.search(text):
        return None
    text = text.replace("\r\n", "\n")
    if _OTHER_BREAKS.search(text):
        return None
    try:
        lines = _lines(text)
        if not lines:
            return None
        value, end = _block(lines, 0, lines[0][0])
        if end != len(lines):
            return None
        return value
    except _Unsupported:
        return None


def _lines(text: str) -> list[tuple[int, str]]:
    """(indent, content) of every meaningful line; comments and blank lines dropped."""
    out = []
    for line in text.split("\n"):
        content = line.lstrip(" ")
        if not content or content.startswith("#"):
            continue
        if content.startswith("\t") or "\t" in line or line.rstrip() != line:
            raise _Unsupported
        if content in ("---", "...") or content.startswith(("--- ", "%")):
            raise _Unsupported
        out.append((len(line) - len(content), content))
    return out


def _block(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[Any, int]:
    """The mapping or sequence whose entries start at line ``i`` with ``indent``."""
    if lines[i][1] == "-" or lines[i][1].startswith("- "):
        return _sequence(lines, i, indent)
    return _mapping(lines, i, indent, {})


def _mapping(lines: list[tuple[int, str]], i: int, indent: int, out: dict[str, Any]) -> tuple[Any, int]:
    while i < len(lines):
        at, content = lines[i]
        if at < indent:
            break
        if at > indent:
            raise _Unsupported
        key, rest = _entry(content)
        i += 1
        if rest:
            out[key] = _scalar(rest)
            continue
        # "key:" then a nested block (deeper, or a sequence at the same indent), or null
        if i < len(lines) and (lines[i][0] > indent or (lines[i][0] == indent and _is_item(lines[i][1]))):
            out[key], i = _block(lines, i, lines[i][0])
        else:
            out[key] = None
    return out, i


def _sequence(lines: list[tuple[int, str]], i: int, indent: int) -> tuple[list[Any], int]:
    out: list[Any] = []
    while i < len(lines):
        at, content = lines[i]
        if at < indent or (at == indent and not _is_item(content)):
            break
        if at > indent:
            raise _Unsupported
        rest = content[2:] if content != "-" else ""
        if not rest.strip() or rest.startswith(" "):
            raise _Unsupported  # a nested block on the next lines, or odd spacing
        inner = indent + 2
        if _is_item(rest):
            raise _Unsupported  # "- - x": a sequence in a sequence
        if _looks_like_entry(rest):
            # "- key: value": a mapping whose first entry shares the dash's line
            key, value = _entry(rest)
            item: dict[str, Any] = {}
            if value:
                item[key] = _scalar(value)
                i += 1
            else:
                i += 1
                if i < len(lines) and (
                    lines[i][0] > inner or (lines[i][0] == inner and _is_item(lines[i][1]))
                ):
                    item[key], i = _block(lines, i, lines[i][0])
                else:
                    item[key] = None
            if i < len(lines) and lines[i][0] == inner and not _is_item(lines[i][1]):
                item, i = _mapping(lines, i, inner, item)
            elif i < len(lines) and lines[i][0] > indent and lines[i][0] != inner:
                raise _Unsupported
            out.append(item)
        else:
            out.append(_scalar(rest))
            i += 1
            if i < len(lines) and lines[i][0] > indent:
                raise _Unsupported  # a multi-line scalar
    return out, i


def _is_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _looks_like_entry(content: str) -> bool:
    if content[:1] in ("'", '"'):
        return False  # a quoted scalar item ("- 'a: b'" is a string)
    return ": " in content or content.endswith(":")


def _entry(content: str) -> tuple[str, str]:
    """``key: value`` → (key, value text); the value may be empty."""
    if content.endswith(":"):
        key, rest = content[:-1], ""
    else:
        key, sep, rest = content.partition(": ")
        if not sep:
            raise _Unsupported
        rest = rest.strip(" ")
    if not _KEY.match(key) or key in _WORDS:
        raise _Unsupported
    return key, rest


def _scalar(text: str) -> Any:
    """One scalar on one line (the rest of a ``key:`` or ``- `` line)."""
    first = text[0]
    if first == '"':
        if len(text) < 2 or not text.endswith('"') or "\\" in text or '"' in text[1:-1]:
            raise _Unsupported
        return text[1:-1]
    if first == "'":
        if len(text) < 2 or not text.endswith("'"):
            raise _Unsupported
        inner = text[1:-1]
        if "'" in inner.replace("''", ""):
            raise _Unsupported
        return inner.replace("''", "'")
    if text == "{}":
        return {}
    if text == "[]":
        return []
    if text in _WORDS:
        if text in _AMBIGUOUS_WORDS:
            raise _Unsupported
        return _WORDS[text]
    if not _PLAIN.match(text) or ": " in text or " #" in text or text.endswith(":"):
        raise _Unsupported
    return text
