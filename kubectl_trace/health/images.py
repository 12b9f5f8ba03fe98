"""Container image references: the tag a Node.js team deploys (the git short hash)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ImageRef", "image_ref", "image_tag"]


@dataclass(frozen=True)
class ImageRef:
    """An image reference split into repository, tag and digest."""

    image: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def display(self) -> str:
        """What to show in a column: the tag, else a short digest, else ``latest?``."""
        if self.tag:
            return self.tag
        if self.digest:
            return self.digest.split(":", 1)[-1][:12]
        return "(no tag)"


def image_ref(image: str) -> ImageRef:
    """Split ``registry:5000/team/app:tag@sha256:…`` (a registry port is not a tag)."""
    rest, _, digest = image.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        repository, tag = rest[:colon], rest[colon + 1 :]
    else:
        repository, tag = rest, ""
    return ImageRef(image=image, repository=repository, tag=tag or None, digest=digest or None)


def image_tag(image: str) -> str | None:
    """The tag of an image reference, or None when it has none."""
    return image_ref(image).tag
