"""Renderers: entries → text. ``pretty`` (coloured, per-pod prefix), ``raw``, ``json``.

No rich here: the styles are ANSI strings computed once, and each entry becomes one
string that the writer buffers. Colour off gives the same text without escapes.

Pretty layout::

    POD LEVEL message key=value key=value
    POD       stack line (indented block)

``POD`` is the pod name (``pod/container`` for pods with several containers), coloured
by a stable hash of the pod name. Plain lines are printed as they are after the prefix.

Log text is the app's (and so possibly an attacker's): pretty output, and raw output on
a terminal, show control characters visibly and cut very long lines
(:mod:`kubectl_trace.textsafe`) before our colours are added; JSON output escapes them.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from kubectl_trace.logs.parse import HIDDEN_FIELDS, Parsed, parse_text, parse_text_keep_stack
from kubectl_trace.logs.record import Entry, Marker, Source
from kubectl_trace.textsafe import LINE_LIMIT, json_escape_controls, safe_text, visible

__all__ = ["JsonRenderer", "PrettyRenderer", "RawRenderer", "Renderer", "format_fields", "make_renderer"]

RESET = "\x1b[0m"
DIM = "\x1b[2m"
HIGHLIGHT = "\x1b[30;43m"
MARKER_STYLE = "\x1b[1;33m"
# Pod colours: no red (errors are red); the bright variants double the choice.
POD_PALETTE = ("36", "32", "35", "33", "34", "96", "92", "95", "93", "94")
LEVEL_STYLES = {
    "trace": "\x1b[2m",
    "debug": "\x1b[34m",
    "info": "\x1b[32m",
    "warn": "\x1b[33m",
    "error": "\x1b[31m",
    "fatal": "\x1b[1;31m",
}
STACK_INDENT = "    "
_COLOR_SEP = f"={RESET}"


def pod_color(pod: str) -> str:
    """The SGR code of a pod's colour: the same pod gets the same colour in every run."""
    return POD_PALETTE[zlib.crc32(pod.encode()) % len(POD_PALETTE)]


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json_value(value: Any) -> str:
    return json_escape_controls(_dumps(value))


_STR_CACHE: dict[str, str] = {}
_STR_CACHE_MAX = 50_000


def _format_str(value: str) -> str:
    """A string value: as it is when it is one plain word, else JSON-quoted (cached)."""
    found = _STR_CACHE.get(value)
    if found is None:
        if value and value.isprintable() and " " not in value and '"' not in value and "=" not in value:
            found = value
        else:
            found = _json_value(value)
            if len(found) > LINE_LIMIT:
                found = safe_text(found)
        if len(_STR_CACHE) >= _STR_CACHE_MAX:
            _STR_CACHE.clear()
        _STR_CACHE[value] = found
    return found


def _format_value(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _format_str(value)
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _json_value(value)


def _pairs_into(
    out: list[str], prefix: str, fields: Mapping[str, Any], sep: str, hidden: frozenset[str] = frozenset()
) -> list[str]:
    """Append ``key=value`` texts for ``fields`` to ``out`` (``sep`` is ``=``, coloured or not)."""
    cached = _STR_CACHE.get
    append = out.append
    for key, value in fields.items():
        if key in hidden:
            continue
        if not key.isprintable():
            key = visible(key)
        kind = type(value)
        if kind is str:
            text = cached(value)
            if text is None:
                text = _format_str(value)
            append(f"{prefix}{key}{sep}{text}")
        elif kind is int:
            append(f"{prefix}{key}{sep}{value}")
        elif kind is dict and value:
            _pairs_into(out, f"{prefix}{key}.", value, sep)
        else:
            append(f"{prefix}{key}{sep}{_format_value(value)}")
    return out


def _top_pairs(fields: Mapping[str, Any], prefix: str, sep: str) -> list[str]:
    return _pairs_into([], prefix, fields, sep, HIDDEN_FIELDS)


def format_fields(fields: Mapping[str, Any], *, color: bool = False) -> str:
    """``key=value key=value`` (strings quoted only when they need it; keys dimmed in colour)."""
    if color:
        return " ".join(_top_pairs(fields, DIM, _COLOR_SEP))
    return " ".join(_top_pairs(fields, "", "="))


class Renderer:
    """Base: ``entry(e)`` → text for stdout; ``marker(m)`` → (text, to_stderr)."""

    parse: Callable[[str], Parsed] = staticmethod(parse_text)

    def line(self, source: Source, ts: str, text: str) -> str:
        """The text of one single log line (not grouped with others)."""
        return self.entry(Entry(source, ts, text))

    def entry(self, entry: Entry) -> str:
        """The text of one entry, newline-terminated."""
        raise NotImplementedError

    def marker(self, marker: Marker) -> tuple[str, bool]:
        """The text of a marker line, and whether it goes to stderr."""
        raise NotImplementedError

    def gap(self, source: Source, last_ts: str) -> str:
        """A record for stdout saying lines of ``source`` after ``last_ts`` are missing ("": none).

        Human output has none: the warning on stderr says it.
        """
        return ""


class PrettyRenderer(Renderer):
    """Coloured (or not) human output."""

    def __init__(
        self,
        *,
        color: bool,
        timestamps: bool = False,
        highlight: re.Pattern[str] | None = None,
    ) -> None:
        self.color = color
        self.timestamps = timestamps
        self.highlight = highlight
        self._prefixes: dict[str, str] = {}
        self._levels: dict[str | None, str]
        if color:
            self._levels = {name: f"{style}{name.upper():<5}{RESET} " for name, style in LEVEL_STYLES.items()}
        else:
            self._levels = {name: f"{name.upper():<5} " for name in LEVEL_STYLES}
        self._levels[None] = ""
        self._highlighting = highlight is not None and color
        self._key_prefix = DIM if color else ""
        self._key_sep = _COLOR_SEP if color else "="

    def _prefix(self, source: Source) -> str:
        """The prefix of every line of a source: its label, coloured by pod."""
        found = self._prefixes.get(source.label)
        if found is None:
            label = source.label
            found = f"\x1b[{pod_color(source.pod)}m{label}{RESET} " if self.color else f"{label} "
            self._prefixes[label] = found
        return found

    def _ts(self, ts: str) -> str:
        # 2026-01-02T15:04:05.123456789Z → 2026-01-02T15:04:05.123Z
        short = f"{ts[:23]}Z " if len(ts) >= 24 else (f"{ts} " if ts else "")
        return f"{DIM}{short}{RESET}" if self.color and short else short

    def _hl(self, text: str, restore: str = "") -> str:
        pattern = self.highlight
        if pattern is None or not self.color:
            return text
        return pattern.sub(lambda m: f"{HIGHLIGHT}{m.group(0)}{RESET}{restore}", text)

    def line(self, source: Source, ts: str, text: str) -> str:
        """One single log line (the hot path: no Entry is built)."""
        head = self._prefixes.get(source.label)
        if head is None:
            head = self._prefix(source)
        return self._render(head, ts, text, parse_text(text), None)

    def entry(self, entry: Entry) -> str:
        """One entry as pretty text (several lines for stacks and grouped lines)."""
        head = self._prefixes.get(entry.source.label)
        if head is None:
            head = self._prefix(entry.source)
        parsed = entry.parsed
        if parsed is None:
            parsed = entry.parsed = parse_text(entry.text)
        return self._render(head, entry.ts, entry.text, parsed, entry.more)

    def _render(
        self, cont: str, ts: str, text: str, parsed: Parsed, more: list[tuple[str, str]] | None
    ) -> str:
        head = self._ts(ts) + cont if self.timestamps else cont
        hl = self._highlighting
        if not parsed.structured:
            text = safe_text(text)
            if more is None:
                return f"{head}{self._hl(text) if hl else text}\n"
            lines = [f"{head}{self._hl(text) if hl else text}\n"]
            for more_ts, more_text in more:
                lead = self._ts(more_ts) + cont if self.timestamps else cont
                more_text = safe_text(more_text)
                lines.append(f"{lead}{self._hl(more_text) if hl else more_text}\n")
            return "".join(lines)
        message = safe_text(parsed.message)
        if hl:
            message = self._hl(message)
        shown = " ".join(_top_pairs(parsed.fields, self._key_prefix, self._key_sep)) if parsed.fields else ""
        if shown:
            line = f"{head}{self._levels[parsed.level]}{message} {shown}\n"
        else:
            line = f"{head}{self._levels[parsed.level]}{message}\n"
        if parsed.stack is None and more is None:
            return line
        return line + self._block(parsed, more, cont)

    def _block(self, parsed: Parsed, more: list[tuple[str, str]] | None, cont: str) -> str:
        lead = (" " * 25 if self.timestamps else "") + cont + STACK_INDENT
        out = []
        if parsed.stack is not None:
            for text in safe_text(parsed.stack).splitlines():
                if self.color:
                    out.append(f"{lead}{DIM}{self._hl(text, DIM)}{RESET}\n")
                else:
                    out.append(f"{lead}{text}\n")
        for _, text in more or ():
            out.append(f"{lead}{self._hl(safe_text(text))}\n")
        return "".join(out)

    def marker(self, marker: Marker) -> tuple[str, bool]:
        """``── POD container restarted (exit 137, OOMKilled) ──``, on stdout."""
        text = f"── {visible(marker.text)} ──"
        if self.color:
            return f"{MARKER_STYLE}{text}{RESET}\n", False
        return f"{text}\n", False


class RawRenderer(Renderer):
    """The original lines, nothing added (``--timestamps`` puts the kubelet's back).

    With ``safe`` (a terminal without ``--raw-bytes``) control characters are shown and
    long lines cut, as in pretty output; without, the lines are as the app wrote them.
    """

    def __init__(self, *, timestamps: bool = False, safe: bool = False) -> None:
        self.timestamps = timestamps
        self.safe = safe

    def entry(self, entry: Entry) -> str:
        """The original line(s)."""
        if self.safe:
            return safe_text(self._entry(entry)[:-1]) + "\n"
        return self._entry(entry)

    def _entry(self, entry: Entry) -> str:
        if self.timestamps:
            if entry.more is None:
                return f"{entry.ts} {entry.text}\n"
            lines = [f"{entry.ts} {entry.text}\n"]
            lines.extend(f"{ts} {text}\n" for ts, text in entry.more)
            return "".join(lines)
        if entry.more is None:
            return f"{entry.text}\n"
        return entry.raw + "\n"

    def marker(self, marker: Marker) -> tuple[str, bool]:
        """Restart markers go to stderr: stdout holds only original lines."""
        return f"── {visible(marker.text)} ──\n", True


class JsonRenderer(Renderer):
    """One JSON object per entry: namespace, pod, container, timestamp, level, message, fields, raw."""

    parse = staticmethod(parse_text_keep_stack)

    def line(self, source: Source, ts: str, text: str) -> str:
        """One single line as one object."""
        parsed = parse_text_keep_stack(text)
        fields = parsed.fields if parsed.structured else {}
        return _json_line(source, ts, parsed.level, parsed.message, fields, text)

    def entry(self, entry: Entry) -> str:
        """One object, one line."""
        parsed = entry.parsed
        if parsed is None or (parsed.structured and parsed.stack is not None):
            parsed = entry.parsed = parse_text_keep_stack(entry.text)
        raw = entry.raw
        message, fields = (parsed.message, parsed.fields) if parsed.structured else (raw, {})
        return _json_line(entry.source, entry.ts, parsed.level, message, fields, raw)

    def marker(self, marker: Marker) -> tuple[str, bool]:
        """A restart as an object with ``fields.event``."""
        fields = {"event": marker.event, "exitCode": marker.exit_code, "reason": marker.reason}
        return _json_line(marker.source, marker.ts, None, marker.text, fields, None), False

    def gap(self, source: Source, last_ts: str) -> str:
        """``fields.event`` "gap": the pod was deleted before the rest of its log was read."""
        message = "pod deleted before its log could be resumed: lines after timestamp may be missing"
        return _json_line(source, last_ts, None, message, {"event": "gap", "after": last_ts or None}, None)


def _json_line(
    source: Source, ts: str, level: str | None, message: str, fields: dict[str, Any], raw: str | None
) -> str:
    """One ``-o json`` object on one line: the source, the time (None when unknown), what it says."""
    obj = {
        "namespace": source.namespace,
        "pod": source.pod,
        "container": source.container,
        "timestamp": ts or None,
        "level": level,
        "message": message,
        "fields": fields,
        "raw": raw,
    }
    return _json_value(obj) + "\n"


def make_renderer(
    output: str,
    *,
    color: bool,
    timestamps: bool = False,
    highlight: re.Pattern[str] | None = None,
    safe_raw: bool = False,
) -> Renderer:
    """The renderer for ``-o OUTPUT`` (``safe_raw``: raw output shows control characters)."""
    if output == "raw":
        return RawRenderer(timestamps=timestamps, safe=safe_raw)
    if output == "json":
        return JsonRenderer()
    return PrettyRenderer(color=color, timestamps=timestamps, highlight=highlight)
