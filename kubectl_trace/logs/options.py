"""``LogsOptions``: the validated flags of ``kubectl nodeapp logs`` (what the core sees)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kubectl_trace.kube.queries import Selection
from kubectl_trace.kube.settings import KubeSettings

__all__ = ["LogsOptions"]


@dataclass(frozen=True)
class LogsOptions:
    """Everything the logs pipeline needs, validated (regexes compiled, durations parsed)."""

    kube: KubeSettings
    target: str | None = None
    all_namespaces: bool = False
    selector: str | None = None
    process: str | None = None
    container: re.Pattern[str] | None = None
    exclude_container: re.Pattern[str] | None = None
    exclude_pod: re.Pattern[str] | None = None
    follow: bool = True
    tail: int | None = 10  # None: everything
    since_seconds: int | None = None
    since_time: str | None = None  # RFC 3339, as given
    previous: bool = False
    timestamps: bool = False
    level: str | None = None
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    highlight: re.Pattern[str] | None = None
    output: str = "pretty"
    raw_bytes: bool = False  # -o raw byte-exact even on a terminal
    max_streams: int = 100
    order: str = "arrival"
    color: str = "auto"
    debug: bool = False
    # While following: how long a plain line waits for its continuation lines, how long
    # --order time waits for a silent stream, how often output is flushed at the latest.
    group_hold: float = 0.02
    order_delay: float = 0.3
    flush_interval: float = 0.02

    @property
    def pods(self) -> Selection:
        """The pods whose logs TARGET picks from: the namespace (None: the connection's) or all, ``-l``."""
        return Selection("pods", self.kube.namespace, self.all_namespaces, self.selector)
