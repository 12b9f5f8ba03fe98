"""``pods/proxy``: ``/api/v1/namespaces/NS/pods/[SCHEME:]NAME[:PORT]/proxy/PATH``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from kubectl_trace.sandbox.server.routes import Route
from kubectl_trace.sandbox.store import StoreError

if TYPE_CHECKING:
    from kubectl_trace.sandbox.server.api import ApiServer

__all__ = ["serve_proxy", "split_name_port"]


def split_name_port(text: str) -> tuple[str, str, str]:
    """``[scheme:]name[:port]`` → (scheme, name, port); empty strings when absent."""
    parts = text.split(":")
    if len(parts) == 1:
        return "", parts[0], ""
    if len(parts) == 2:
        return "", parts[0], parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    raise StoreError.bad_request(f"invalid request {text!r}")


def _first_port(pod: dict[str, Any]) -> str:
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("containerPort"):
                return str(port["containerPort"])
    return ""


async def serve_proxy(api: ApiServer, request: web.Request, route: Route) -> web.StreamResponse:
    """Forward a request to a pod's port, as answered by the runtime."""
    assert route.name is not None
    if route.resource is None or route.resource.plural != "pods":
        raise StoreError(404, "NotFound", "the server could not find the requested resource", details={})
    _scheme, name, port = split_name_port(route.name)
    pod = api.store.get("pods", route.namespace, name)
    port = port or _first_port(pod)
    path = route.rest or "/"
    if request.query_string:
        path = f"{path}?{request.query_string}"
    answer = api.runtime.proxy(route.namespace or "", name, port, path, request.method)
    return web.Response(status=answer.status, body=answer.body, headers={"Content-Type": answer.content_type})
