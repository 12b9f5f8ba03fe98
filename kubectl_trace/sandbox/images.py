"""Container images of the sandbox: references, what each image carries, and its faults.

Every well-formed reference "exists" in the sandbox registry and pulls, unless its tag
is marked with a fault: ``unready`` (``/healthz`` answers 503), ``crash`` (exits 1 at
start with a Node.js "Cannot find module" stack), ``missing`` (not found: ErrImagePull,
ImagePullBackOff) or ``slow-start`` (answers 503 while it warms up for ~40 s).
``badc0de``, ``c0ffee1`` and ``0000000`` are marked from the start.

What an image carries is a pure function of its reference: the Node.js version, whether
it has ``bash`` (Debian-based) or only ``sh`` (Alpine), its size and digest.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_FAULTS",
    "FAULTS",
    "ImageProfile",
    "ImageRef",
    "Images",
    "parse_image",
]

FAULTS = ("unready", "crash", "missing", "slow-start", "leak", "ignore-sigterm")

DEFAULT_FAULTS: dict[str, str] = {"badc0de": "unready", "c0ffee1": "crash", "0000000": "missing"}

# The app's own releases: fixed so the demo always tells the same story.
_KNOWN: dict[str, tuple[str, bool]] = {
    "8b1d0e4": ("18.19.1", True),
    "3f9c2a1": ("20.11.1", True),
    "a41c9e7": ("20.12.2", False),
    "badc0de": ("20.12.2", False),
    "c0ffee1": ("20.12.2", False),
    "9e1f00a": ("18.20.4", False),
    "2d4e6f8": ("18.20.4", False),
}
_NODE_VERSIONS = ("18.19.1", "18.20.4", "20.11.1", "20.12.2", "20.18.0", "22.2.0", "22.11.0")

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = (
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?"
)
_REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>[\w][\w.-]{{0,127}}))?(?:@(?P<digest>sha256:[0-9a-f]{{64}}))?$"
)


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference."""

    text: str  # as written in the pod spec
    domain: str
    path: str
    tag: str
    digest: str | None

    @property
    def repository(self) -> str:
        """``registry.sandbox.local/trace/trace-api``."""
        return f"{self.domain}/{self.path}"

    @property
    def canonical(self) -> str:
        """What the runtime reports as the image (``docker.io/library/nginx:1.25``)."""
        if self.digest and not self.tag_given:
            return f"{self.repository}@{self.digest}"
        return f"{self.repository}:{self.tag}"

    @property
    def tag_given(self) -> bool:
        """Whether the reference names a tag (else ``latest`` is implied)."""
        return ":" in self.text.rsplit("/", 1)[-1].split("@", 1)[0]

    @property
    def name(self) -> str:
        """The last path component (``trace-api``)."""
        return self.path.rsplit("/", 1)[-1]


def parse_image(text: str) -> ImageRef | None:
    """Parse an image reference; None when it is not well formed (InvalidImageName)."""
    match = _REFERENCE.match(text or "")
    if not match:
        return None
    domain = match.group("domain")
    path = match.group("path")
    if domain is None or ("." not in domain and ":" not in domain and domain != "localhost"):
        # "nginx" or "library/nginx": the first component was part of the path
        if domain is not None:
            path = f"{domain}/{path}"
        domain = "docker.io"
        if "/" not in path:
            path = f"library/{path}"
    tag = match.group("tag") or "latest"
    return ImageRef(text, domain, path, tag, match.group("digest"))


def _digest(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


@dataclass(frozen=True)
class ImageProfile:
    """What an image carries and how its process behaves (a pure function of the reference)."""

    ref: ImageRef
    node_version: str  # without the leading "v"
    has_bash: bool
    size: int  # bytes
    fault: str | None

    @property
    def image_id(self) -> str:
        """The ``imageID`` a runtime reports: ``repo@sha256:…``."""
        return f"{self.ref.repository}@sha256:{_digest('image:' + self.ref.canonical)}"

    @property
    def base(self) -> str:
        """The base distribution, for the exec environment."""
        return "bookworm-slim" if self.has_bash else "alpine3.19"

    @property
    def app(self) -> str:
        """Which application the image holds: ``trace-api``, ``trace-ui`` or ``generic``."""
        if self.ref.name in ("trace-api", "trace-ui"):
            return self.ref.name
        return "generic"

    @property
    def pull_seconds(self) -> float:
        """Simulated time a pull takes (bigger images take longer)."""
        return 0.8 + self.size / 60_000_000


class Images:
    """The sandbox registry: image faults (``sandbox image mark``) and profiles."""

    def __init__(self, extra_faults: dict[str, str] | None = None) -> None:
        self._faults: dict[str, str] = dict(DEFAULT_FAULTS)
        for tag, fault in (extra_faults or {}).items():
            self.mark(tag, fault)

    def mark(self, tag: str, fault: str | None) -> None:
        """Images with this tag behave per ``fault`` from now on (None: normally)."""
        if fault in (None, "", "none"):
            self._faults.pop(tag, None)
            return
        if fault not in FAULTS:
            raise ValueError(f"unknown image fault {fault!r} (choose from {', '.join(FAULTS)})")
        self._faults[tag] = fault

    def faults(self) -> dict[str, str]:
        """Tag → fault of every marked image."""
        return dict(self._faults)

    def fault_of(self, ref: ImageRef) -> str | None:
        """The fault of an image now."""
        return self._faults.get(ref.tag)

    def profile(self, ref: ImageRef) -> ImageProfile:
        """The profile of an image as it is now (its fault can change with ``mark``)."""
        known = _KNOWN.get(ref.tag) if ref.name in ("trace-api", "trace-ui") else None
        seed = int(_digest("profile:" + ref.canonical)[:12], 16)
        if known is not None:
            node, bash = known
        else:
            node = _NODE_VERSIONS[seed % len(_NODE_VERSIONS)]
            bash = (seed >> 8) % 3 != 0
        size = 48_000_000 + (seed >> 16) % 90_000_000
        if not bash:
            size //= 2
        return ImageProfile(ref, node, bash, size, self.fault_of(ref))
