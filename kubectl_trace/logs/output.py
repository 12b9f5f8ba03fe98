"""The one buffered writer of the pipeline.

Text and bytes are collected and written in one call per flush, to the binary stdout
when there is one (no per-line encode or syscall). The pipeline decides when to flush:
while following, at most ``flush_interval`` after the first unwritten byte arrived.
"""

from __future__ import annotations

from typing import IO, Any

__all__ = ["BufferedOutput"]


class BufferedOutput:
    """Collects output; ``flush()`` writes it all at once."""

    def __init__(self, stdout: IO[str], *, limit: int = 1 << 18) -> None:
        self._text = stdout
        buffer: IO[bytes] | None = getattr(stdout, "buffer", None)
        self._binary = buffer
        self.limit = limit
        self._parts: list[Any] = []
        self._bytes_mode = False
        self.size = 0
        self.since: float | None = None  # when the oldest unwritten part was added

    @property
    def pending(self) -> bool:
        """Whether anything is waiting to be written."""
        return bool(self._parts)

    def write(self, text: str, now: float = 0.0) -> None:
        """Add text."""
        if self._bytes_mode:
            self._parts.append(text.encode("utf-8", "replace"))
        else:
            self._parts.append(text)
        self.size += len(text)
        if self.since is None:
            self.since = now

    def write_bytes(self, data: bytes, now: float = 0.0) -> None:
        """Add bytes (UTF-8)."""
        if not self._bytes_mode:
            if self._parts:
                self._parts = ["".join(self._parts).encode("utf-8", "replace")]
            self._bytes_mode = True
        self._parts.append(data)
        self.size += len(data)
        if self.since is None:
            self.since = now

    def flush(self) -> None:
        """Write everything collected, then flush the stream."""
        parts = self._parts
        if not parts:
            return
        self._parts = []
        self.size = 0
        self.since = None
        bytes_mode = self._bytes_mode
        self._bytes_mode = False
        if self._binary is not None:
            self._text.flush()
            data = b"".join(parts) if bytes_mode else "".join(parts).encode("utf-8", "replace")
            self._binary.write(data)
            self._binary.flush()
        else:
            text = b"".join(parts).decode("utf-8", "replace") if bytes_mode else "".join(parts)
            self._text.write(text)
            self._text.flush()
