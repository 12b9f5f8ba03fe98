"""Sandbox-only endpoints under ``/sandbox/v1/`` (token-protected like the API).

``GET status``; ``POST compact`` (forget the change history: older watches and continue
tokens get 410 Expired); ``POST faults/drop-streams``, ``faults/api-errors`` ``{rate, seconds}``,
``faults/latency`` ``{ms, seconds}``, ``faults/kill`` ``{namespace, pod, container}``;
``GET images``; ``POST images/mark`` ``{tag, fault}``, ``images/unmark`` ``{tag}``;
``POST credentials/token`` ``{seconds}``, ``credentials/client-certificate`` ``{user, groups}``
(see ``issued``).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubectl_trace.sandbox.server.responses import json_response
from kubectl_trace.sandbox.store import StoreError

if TYPE_CHECKING:
    from kubectl_trace.sandbox.server.api import ApiServer

__all__ = ["IMAGE_FAULTS", "handle_admin"]

IMAGE_FAULTS = ("unready", "crash", "missing", "slow-start", "leak", "ignore-sigterm")
PREFIX = "/sandbox/v1/"


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise StoreError.bad_request("the body must be a JSON object") from None
    if not isinstance(data, dict):
        raise StoreError.bad_request("the body must be a JSON object")
    return data


def _number(body: dict[str, Any], key: str, *, minimum: float, maximum: float | None = None) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StoreError.bad_request(f"{key} must be a number")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum:g}" if maximum is not None else ""
        raise StoreError.bad_request(f"{key} must be at least {minimum:g}{upper}")
    return float(value)


def _text(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise StoreError.bad_request(f"{key} is required")
        return None
    if not isinstance(value, str):
        raise StoreError.bad_request(f"{key} must be a string")
    return value


def _issue(api: ApiServer, path: str, body: dict[str, Any]) -> web.StreamResponse:
    assert api.issued is not None
    if path == "credentials/token":
        return json_response(api.issued.issue_token(_number(body, "seconds", minimum=0.0, maximum=86400.0)))
    if path == "credentials/client-certificate":
        groups = body.get("groups") or []
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise StoreError.bad_request("groups must be a list of strings")
        user = _text(body, "user", required=False) or "sandbox-cert-user"
        return json_response(api.issued.issue_client_certificate(user, tuple(groups)))
    raise StoreError(404, "NotFound", f"no sandbox endpoint POST /sandbox/v1/{path}", details={})


async def handle_admin(api: ApiServer, request: web.Request) -> web.StreamResponse:
    """Dispatch ``/sandbox/v1/…``."""
    path = request.path[len(PREFIX) :] if request.path.startswith(PREFIX) else ""
    method = request.method
    now = time.monotonic()
    if path == "status" and method == "GET":
        return json_response(api.status())
    if path == "images" and method == "GET":
        return json_response({"images": api.runtime.image_faults()})
    if method != "POST":
        raise StoreError(404, "NotFound", f"no sandbox endpoint {method} {request.path}", details={})
    body = await _body(request)
    if path == "compact":
        return json_response({"compactedResourceVersion": str(api.store.compact())})
    if path == "faults/drop-streams":
        return json_response({"dropped": api.streams.drop_all()})
    if path == "faults/api-errors":
        rate = _number(body, "rate", minimum=0.0, maximum=1.0)
        seconds = _number(body, "seconds", minimum=0.0)
        api.faults.set_api_errors(rate, seconds, now)
        return json_response({"apiErrors": {"rate": rate, "seconds": seconds}})
    if path == "faults/latency":
        ms = _number(body, "ms", minimum=0.0)
        seconds = _number(body, "seconds", minimum=0.0)
        api.faults.set_latency(ms, seconds, now)
        return json_response({"latency": {"ms": ms, "seconds": seconds}})
    if path == "faults/kill":
        namespace = _text(body, "namespace") or "default"
        pod = _text(body, "pod") or ""
        container = _text(body, "container", required=False)
        api.store.get("pods", namespace, pod)
        api.runtime.kill(namespace, pod, container)
        return json_response({"killed": {"namespace": namespace, "pod": pod, "container": container}})
    if path == "images/mark":
        tag = _text(body, "tag") or ""
        fault = _text(body, "fault") or ""
        if fault not in IMAGE_FAULTS:
            raise StoreError.bad_request(
                f"unknown image fault {fault!r} (choose one of: {', '.join(IMAGE_FAULTS)})"
            )
        api.runtime.mark_image(tag, fault)
        return json_response({"images": api.runtime.image_faults()})
    if path.startswith("credentials/") and api.issued is not None:
        return _issue(api, path, body)
    if path == "images/unmark":
        tag = _text(body, "tag") or ""
        api.runtime.mark_image(tag, None)
        return json_response({"images": api.runtime.image_faults()})
    raise StoreError(404, "NotFound", f"no sandbox endpoint {method} {request.path}", details={})
