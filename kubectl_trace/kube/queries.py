"""What a request reads, as values: a list or watch ``Selection`` and a pod ``LogQuery``.

Plain dataclasses with no imports beyond the standard library, so that the modules that only
describe requests (TARGET resolution, ``logs`` options) stay cheap to import; ``kube.calls``
sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Selection:
    """What a list or a watch reads: objects of one kind, in one namespace or all, narrowed.

    ``namespace`` None means the connection's namespace; with ``all_namespaces`` it is not
    used. The selectors are the API server's ``labelSelector`` / ``fieldSelector`` text.
    """

    kind: str
    namespace: str | None = None
    all_namespaces: bool = False
    label_selector: str | None = None
    field_selector: str | None = None

    def query(self) -> dict[str, str | None]:
        """The selectors as query parameters (None: left out)."""
        return {"labelSelector": self.label_selector, "fieldSelector": self.field_selector}


@dataclass(frozen=True)
class LogQuery:
    """What a pod log request asks for (the PodLogOptions): whose log, which part of it, how."""

    container: str | None = None
    follow: bool = False
    previous: bool = False  # the log of the container's previous instance
    timestamps: bool = False
    since_seconds: int | None = None
    since_time: str | None = None  # RFC 3339
    tail_lines: int | None = None
    limit_bytes: int | None = None

    def query(self) -> dict[str, Any]:
        """The query parameters (None: left out; flags only when set)."""
        return {
            "container": self.container,
            "follow": "true" if self.follow else None,
            "previous": "true" if self.previous else None,
            "timestamps": "true" if self.timestamps else None,
            "sinceSeconds": self.since_seconds,
            "sinceTime": self.since_time,
            "tailLines": self.tail_lines,
            "limitBytes": self.limit_bytes,
        }
