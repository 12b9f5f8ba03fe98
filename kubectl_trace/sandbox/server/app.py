"""The aiohttp application: authentication, faults, counters, errors, and the handler table.

``make_app(ApiServer(store, runtime, token=…))`` returns an ``web.Application`` whose
``ApiServer`` (``app[API]``) holds the store, the runtime, the faults, the counters and the
open streams.
Every request needs ``Authorization: Bearer TOKEN`` (constant-time compare), or a credential
the sandbox issued (``issued``: a short-lived token, a client certificate), or gets a 401
Status; API requests are counted by verb and resource, delayed or failed while a fault is
active, and every ``StoreError`` becomes a ``metav1.Status`` answer. ``make_app`` registers
one handler per kind of path (``routes.parse_path``) and one per pod subresource.
"""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from kubectl_trace.sandbox.server.admin import handle_admin
from kubectl_trace.sandbox.server.api import ApiServer
from kubectl_trace.sandbox.server.attach import serve_attach
from kubectl_trace.sandbox.server.discovery import discovery_document
from kubectl_trace.sandbox.server.exec import serve_exec
from kubectl_trace.sandbox.server.identity import ADMIN, User, check, is_identity_path, serve_identity
from kubectl_trace.sandbox.server.issued import IssuedCredentials
from kubectl_trace.sandbox.server.logs import serve_log
from kubectl_trace.sandbox.server.metrics import serve_metrics
from kubectl_trace.sandbox.server.openapi import serve_openapi
from kubectl_trace.sandbox.server.portforward import serve_portforward
from kubectl_trace.sandbox.server.proxy import serve_proxy
from kubectl_trace.sandbox.server.responses import json_response, query_bool, status_response
from kubectl_trace.sandbox.server.rest import handle_object_request, handle_scale
from kubectl_trace.sandbox.server.routes import Route, parse_path
from kubectl_trace.sandbox.store import StoreError

__all__ = ["API", "make_app", "request_verb"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# A handler of one kind of path: the shared server, the request, its parsed route.
RouteHandler = Callable[[ApiServer, web.Request, Route], Awaitable[web.StreamResponse]]

API: web.AppKey[ApiServer] = web.AppKey("api", ApiServer)
ROUTE: web.RequestKey[Route] = web.RequestKey("route", Route)
USER: web.RequestKey[User] = web.RequestKey("user", User)


def request_verb(method: str, route: Route, query: Any) -> str:
    """The Kubernetes verb of a request (what the request counters use)."""
    if route.kind in ("discovery", "openapi", "healthz", "admin", "unknown"):
        return "get" if method == "GET" else method.lower()
    if route.subresource in ("exec", "attach", "proxy", "log", "portforward"):
        return "connect" if route.subresource != "log" else "get"
    watch = route.legacy_watch or query_bool(query, "watch")
    if method == "GET":
        if watch:
            return "watch"
        return "get" if route.name is not None else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if route.name is not None else "deletecollection"
    return method.lower()


def _issued_credential(request: web.Request, issued: IssuedCredentials | None) -> bool:
    if issued is None:
        return False
    peercert = request.transport.get_extra_info("peercert") if request.transport else None
    return issued.accepts(request.headers.get("Authorization", ""), peercert)


_UNAUTHORIZED = StoreError(401, "Unauthorized", "Unauthorized")


def _fault_response(code: int) -> web.Response:
    if code == 429:
        error = StoreError(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
            details={"retryAfterSeconds": 1},
        )
    else:
        error = StoreError(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
            details={"retryAfterSeconds": 1},
        )
    return status_response(error, headers={"Retry-After": "1"})


@web.middleware
async def _middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    api = request.app[API]
    route = parse_path(request.rel_url.raw_path)
    request[ROUTE] = route
    if route.kind not in ("admin", "healthz"):
        api.metrics.count(request_verb(request.method, route, request.query), route.label)
    user = api.users.authenticate(request.headers.get("Authorization", ""))
    if user is None and _issued_credential(request, api.issued):
        user = ADMIN  # a client certificate signed by the sandbox CA, or a short-lived issued token
    if user is None:
        api.metrics.count_code(401)
        return status_response(_UNAUTHORIZED)
    request[USER] = user
    if user.read_only:
        try:
            check(user, request.method, request_verb(request.method, route, request.query), route)
        except StoreError as exc:
            api.metrics.count_code(exc.code)
            return status_response(exc)
    if route.kind not in ("admin", "healthz"):
        now = time.monotonic()
        delay = api.faults.delay(now)
        if delay:
            await asyncio.sleep(delay)
        code = api.faults.next_error(now)
        if code is not None:
            api.metrics.count_code(code)
            return _fault_response(code)
    try:
        response = await handler(request)
    except StoreError as exc:
        response = status_response(exc)
    except web.HTTPException:
        raise
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception as exc:
        print(f"sandbox: error serving {request.method} {request.path}:", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        response = status_response(StoreError(500, "InternalError", f"Internal error occurred: {exc}"))
    api.metrics.count_code(response.status)
    return response


_NOT_FOUND = StoreError(404, "NotFound", "the server could not find the requested resource", details={})


async def _discovery(api: ApiServer, request: web.Request, route: Route) -> web.StreamResponse:
    if request.method != "GET":
        raise StoreError(
            405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
        )
    document = discovery_document(route.path, api.server_address)
    if document is None:
        raise _NOT_FOUND
    return json_response(document)


async def _openapi(_api: ApiServer, request: web.Request, route: Route) -> web.StreamResponse:
    return serve_openapi(request, route.path)


async def _healthz(_api: ApiServer, _request: web.Request, _route: Route) -> web.StreamResponse:
    return web.Response(text="ok", content_type="text/plain")


async def _metrics(api: ApiServer, request: web.Request, route: Route) -> web.StreamResponse:
    return await serve_metrics(api, request, route.path)


async def _admin(api: ApiServer, request: web.Request, _route: Route) -> web.StreamResponse:
    return await handle_admin(api, request)


async def _unknown(_api: ApiServer, request: web.Request, _route: Route) -> web.StreamResponse:
    if is_identity_path(request.path):
        return await serve_identity(request[USER], request)
    raise _NOT_FOUND


class _Dispatcher:
    """Picks the handler of a request: by the kind of its path, then by its subresource."""

    def __init__(
        self,
        by_kind: Mapping[str, RouteHandler],
        by_subresource: Mapping[str | None, RouteHandler],
    ) -> None:
        self.by_kind = by_kind
        self.by_subresource = by_subresource

    async def handle(self, request: web.Request) -> web.StreamResponse:
        api = request.app[API]
        route = request[ROUTE]
        if route.kind != "resource":
            handler = self.by_kind.get(route.kind)
            if handler is None:
                raise _NOT_FOUND
            return await handler(api, request, route)
        if route.resource is None:
            raise _NOT_FOUND
        handler = self.by_subresource.get(route.subresource, handle_object_request)
        return await handler(api, request, route)


def make_app(api: ApiServer) -> web.Application:
    """The API server application for one cluster, sharing ``api`` with every handler."""
    app = web.Application(middlewares=[_middleware], client_max_size=64 * 1024 * 1024)
    app[API] = api
    dispatcher = _Dispatcher(
        by_kind={
            "discovery": _discovery,
            "openapi": _openapi,
            "healthz": _healthz,
            "metrics": _metrics,
            "admin": _admin,
            "unknown": _unknown,
        },
        # Any other subresource (none, ``status``) is a request on the object itself.
        by_subresource={
            "log": serve_log,
            "exec": serve_exec,
            "attach": serve_attach,
            "portforward": serve_portforward,
            "proxy": serve_proxy,
            "scale": handle_scale,
        },
    )
    app.router.add_route("*", "/{tail:.*}", dispatcher.handle)

    async def on_shutdown(_app: web.Application) -> None:
        await api.shutdown()

    app.on_shutdown.append(on_shutdown)
    return app
