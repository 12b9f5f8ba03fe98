r"""List paging: ``limit`` and ``continue`` as the API server answers them.

A continue token is what the API server sends: base64url of
``{"v":"meta.k8s.io/v1","rv":N,"start":"NAMESPACE/NAME\u0000"}`` — the resourceVersion of
the first page and the key to go on after. It expires with the history: once ``rv`` is
compacted (the store's window, or ``compact()``) it answers 410 Expired; a token that
does not parse answers 400. The sandbox keeps no snapshots, so later pages show the
objects as they are now (what the API server does too when asked to go on with an
inconsistent token). ``remainingItemCount`` is sent when no selector narrowed the list.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from kubectl_trace.sandbox.store import Store, StoreError

__all__ = ["Page", "decode_token", "encode_token", "page"]

Obj = dict[str, Any]
_VERSION = "meta.k8s.io/v1"
EXPIRED_MESSAGE = (
    "The provided continue parameter is too old to display a consistent list result. You can start a "
    "new list without the continue parameter, or use the continue token in this response to retrieve "
    "the remainder of the results. Continuing with the provided token results in an inconsistent list "
    "- objects that were created, modified, or deleted between the time the first chunk was returned "
    "and now may show up in the list."
)


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


def encode_token(rv: int, last: Obj) -> str:
    """The token that goes on after ``last``."""
    ns, name = _key(last)
    raw = json.dumps({"v": _VERSION, "rv": rv, "start": f"{ns}/{name}\x00"}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[int, tuple[str, str]]:
    """(resourceVersion, key after which to go on); 400 when the token is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("v") != _VERSION:
            raise ValueError("not a continue token")
        rv, start = data["rv"], data["start"]
        if not isinstance(rv, int) or not isinstance(start, str) or "/" not in start:
            raise ValueError("not a continue token")
    except (ValueError, KeyError, binascii.Error) as exc:
        raise StoreError.bad_request(f"continue key is not valid: {exc}") from None
    ns, _, name = start.rstrip("\x00").partition("/")
    return rv, (ns, name)


class Page:
    """One page of a list and the metadata to send with it."""

    def __init__(self, items: list[Obj], metadata: Obj) -> None:
        self.items = items
        self.metadata = metadata


def page(store: Store, items: list[Obj], query: Any, *, selected: bool) -> Page:
    """Cut ``items`` (sorted by namespace and name) per ``limit`` / ``continue``."""
    from kubectl_trace.sandbox.server.responses import query_int

    limit = query_int(query, "limit") or 0
    token = query.get("continue") or ""
    rv = store.resource_version
    if token:
        rv, after = decode_token(token)
        if rv < store.compacted_version:
            raise StoreError(410, "Expired", EXPIRED_MESSAGE)
        items = [item for item in items if _key(item) > after]
    metadata: Obj = {"resourceVersion": str(rv)}
    if limit > 0 and len(items) > limit:
        rest = len(items) - limit
        items = items[:limit]
        metadata["continue"] = encode_token(rv, items[-1])
        if not selected:
            metadata["remainingItemCount"] = rest
    return Page(items, metadata)
