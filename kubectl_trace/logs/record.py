"""The things that flow through the pipeline: a stream's source and its entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Entry", "Marker", "Source"]


@dataclass(frozen=True, eq=False)
class Source:
    """One container instance (one run of one container of one pod).

    ``label`` is what the pretty renderer prints before each line (the pod name, or
    ``pod/container`` for pods with several containers). ``instance`` tells runs of the same
    container apart (the containerID, or the restart count when there is none).
    """

    namespace: str
    pod: str
    container: str
    instance: str = ""
    label: str = ""
    key: tuple[str, str, str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.namespace, self.pod, self.container))
        if not self.label:
            object.__setattr__(self, "label", self.pod)

    def __repr__(self) -> str:
        return f"Source({self.namespace}/{self.pod}/{self.container}#{self.instance})"


class Entry:
    """One log entry: a line, or a plain line with its continuation lines (a stack trace).

    ``ts`` is the kubelet's timestamp of the first line (RFC 3339, nine digits, or ``""``);
    ``text`` the first line without the timestamp; ``more`` the continuation lines.
    ``parsed`` is filled by the parser on first use.
    """

    __slots__ = ("arrival", "more", "parsed", "source", "text", "ts")

    def __init__(self, source: Source, ts: str, text: str, arrival: float = 0.0) -> None:
        self.source = source
        self.ts = ts
        self.text = text
        self.more: list[tuple[str, str]] | None = None  # (ts, text) of continuation lines
        self.parsed: Any = None
        self.arrival = arrival

    @property
    def raw(self) -> str:
        """The original text, continuation lines included (joined with newlines)."""
        if not self.more:
            return self.text
        return "\n".join([self.text, *(t for _, t in self.more)])

    @property
    def line_count(self) -> int:
        """How many log lines this entry holds."""
        return 1 + (len(self.more) if self.more else 0)

    def __repr__(self) -> str:
        return f"Entry({self.source!r}, {self.ts!r}, {self.text!r}, more={self.more!r})"


@dataclass(frozen=True)
class Marker:
    """A line the tool itself adds to the stream: a container restart.

    ``exit_code`` and ``reason`` come from the previous instance's ``lastState.terminated``.
    """

    source: Source
    ts: str
    event: str  # "restarted"
    exit_code: int | None = None
    reason: str | None = None
    single_container: bool = True
    arrival: float = 0.0

    @property
    def text(self) -> str:
        """``web-7d9f-x2k container restarted (exit 137, OOMKilled)``."""
        what = "container" if self.single_container else f"container {self.source.container}"
        details = []
        if self.exit_code is not None:
            details.append(f"exit {self.exit_code}")
        if self.reason:
            details.append(self.reason)
        tail = f" ({', '.join(details)})" if details else ""
        return f"{self.source.pod} {what} {self.event}{tail}"
