"""Building answers: JSON bodies, ``metav1.Status`` errors, query-parameter parsing."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from kubectl_trace.sandbox.store import StoreError

__all__ = [
    "EncodeCache",
    "dumps",
    "json_response",
    "query_bool",
    "query_int",
    "status_body",
    "status_response",
    "success_status",
]

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes (the API server's encoding)."""
    return _ENCODER.encode(obj).encode("utf-8")


class EncodeCache:
    """JSON of stored objects, computed once per object version.

    Stored objects are never changed in place (every write stores a new dict), so an
    object's identity stands for its content; the cache keeps a reference to each object
    it holds so that an id is never reused while cached. Least recently used go first.
    The default size holds several large collections at once: a list longer than the
    cache would evict every entry before its next use (1,250 pods and 10,000 events of
    the dashboard bench did exactly that at 10,000).
    """

    def __init__(self, max_entries: int = 60_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[int, tuple[Any, bytes]] = OrderedDict()

    def encode(self, obj: Any) -> bytes:
        """The JSON bytes of ``obj``."""
        key = id(obj)
        hit = self._entries.get(key)
        if hit is not None and hit[0] is obj:
            self._entries.move_to_end(key)
            return hit[1]
        data = dumps(obj)
        self._entries[key] = (obj, data)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return data


def json_response(obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """An ``application/json`` answer."""
    return web.Response(body=dumps(obj), status=status, content_type="application/json", headers=headers)


def status_body(
    code: int,
    reason: str,
    message: str,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A failure ``Status`` object."""
    return StoreError(code, reason, message, details=details).status()


def status_response(error: StoreError, headers: Mapping[str, str] | None = None) -> web.Response:
    """The JSON answer for an API error."""
    return json_response(error.status(), status=error.code, headers=headers)


def success_status(details: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``Status`` with ``status: Success`` (what most deletes answer)."""
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if details is not None:
        body["details"] = details
    return body


def query_bool(query: Mapping[str, str], key: str) -> bool:
    """A boolean parameter as apimachinery reads it: absent, ``0`` or ``false`` are false."""
    value = query.get(key)
    if value is None:
        return False
    return value.strip().lower() not in ("0", "false")


def query_int(query: Mapping[str, str], key: str) -> int | None:
    """An integer parameter, None when absent; 400 BadRequest when malformed."""
    value = query.get(key)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise StoreError.bad_request(
            f'strconv.ParseInt: parsing "{value}": invalid syntax for parameter {key}'
        ) from None
