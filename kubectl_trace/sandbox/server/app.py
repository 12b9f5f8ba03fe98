"""The aiohttp application: authentication, faults, counters, errors, routing.

``make_app(store, runtime, token=…)`` returns an ``web.Application`` whose ``ApiServer``
(``app[API]``) holds the store, the runtime, the faults, the counters and the open streams.
Every request needs ``Authorization: Bearer TOKEN`` (constant-time compare), or a credential
the sandbox issued (``issued``: a short-lived token, a client certificate), or gets a 401
Status; API requests are counted by verb and resource, delayed or failed while a fault is
active, and every ``StoreError`` becomes a ``metav1.Status`` answer.
"""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from kubectl_trace.sandbox.interfaces import PodRuntime, SandboxOptions
from kubectl_trace.sandbox.server.identity import ADMIN, VIEWER, User, Users
from kubectl_trace.sandbox.server.issued import IssuedCredentials
from kubectl_trace.sandbox.server.responses import json_response, query_bool, status_response
from kubectl_trace.sandbox.server.routes import Route, parse_path
from kubectl_trace.sandbox.server.state import Faults, Metrics, StreamRegistry
from kubectl_trace.sandbox.server.watch import WatchHub
from kubectl_trace.sandbox.store import Store, StoreError

__all__ = ["API", "ApiServer", "make_app", "request_verb"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiServer:
    """Everything the handlers share."""

    def __init__(
        self,
        store: Store,
        runtime: PodRuntime,
        *,
        token: str,
        options: SandboxOptions | None = None,
        issued: IssuedCredentials | None = None,
        viewer_token: str | None = None,
    ) -> None:
        self.store = store
        self.issued = issued  # short-lived tokens and client certificates (admin-issued)
        self.runtime = runtime
        self.token = token
        self.users = Users()
        self.users.add(token, ADMIN)
        if viewer_token:
            self.users.add(viewer_token, VIEWER)
        self.options = options or SandboxOptions()
        self.faults = Faults()
        self.metrics = Metrics()
        self.streams = StreamRegistry()
        self.hub = WatchHub(store)
        self.started = time.monotonic()
        self.server_address = f"{self.options.host}:{self.options.port}"
        self.exec_sessions: set[Any] = set()  # exec.ExecSession, killed at shutdown
        self.bookmark_interval = 30.0  # seconds between BOOKMARK events on watches that allow them
        self.log_flush_interval = 0.2  # least seconds between two writes to one log follower

    async def shutdown(self) -> None:
        """End every stream and kill every exec process."""
        self.streams.drop_all()
        self.hub.close()
        for session in list(self.exec_sessions):
            session.kill()

    def status(self) -> dict[str, Any]:
        """Uptime, objects per kind, open streams, request counters, faults."""
        from kubectl_trace.kube.resources import RESOURCES

        now = time.monotonic()
        return {
            "uptimeSeconds": round(now - self.started, 3),
            "resourceVersion": str(self.store.resource_version),
            "objects": {plural: self.store.count(plural) for plural in RESOURCES},
            "streams": {"total": len(self.streams), **self.streams.counts()},
            "watchers": self.hub.count(),
            "requests": self.metrics.snapshot(),
            "faults": self.faults.describe(now),
            "options": {
                "timeScale": self.options.time_scale,
                "logRate": self.options.log_rate,
                "logBacklog": self.options.log_backlog,
                "fixture": self.options.fixture,
            },
        }


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
        from kubectl_trace.sandbox.server.identity import check

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


async def _dispatch(request: web.Request) -> web.StreamResponse:
    api = request.app[API]
    route = request[ROUTE]
    if route.kind == "discovery":
        from kubectl_trace.sandbox.server.discovery import discovery_document

        if request.method != "GET":
            raise StoreError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        document = discovery_document(route.path, api.server_address)
        if document is None:
            raise StoreError(404, "NotFound", "the server could not find the requested resource", details={})
        return json_response(document)
    if route.kind == "openapi":
        from kubectl_trace.sandbox.server.openapi import serve_openapi

        return serve_openapi(request, route.path)
    if route.kind == "healthz":
        return web.Response(text="ok", content_type="text/plain")
    if route.kind == "metrics":
        from kubectl_trace.sandbox.server.metrics import serve_metrics

        return await serve_metrics(api, request, route.path)
    if route.kind == "admin":
        from kubectl_trace.sandbox.server.admin import handle_admin

        return await handle_admin(api, request)
    if route.kind == "unknown" and request.path.startswith("/apis/auth"):
        from kubectl_trace.sandbox.server.identity import is_identity_path, serve_identity

        if is_identity_path(request.path):
            return await serve_identity(request[USER], request)
    if route.kind != "resource" or route.resource is None:
        raise StoreError(404, "NotFound", "the server could not find the requested resource", details={})
    sub = route.subresource
    if sub == "log":
        from kubectl_trace.sandbox.server.logs import serve_log

        return await serve_log(api, request, route)
    if sub == "exec":
        from kubectl_trace.sandbox.server.exec import serve_exec

        return await serve_exec(api, request, route)
    if sub == "attach":
        from kubectl_trace.sandbox.server.attach import serve_attach

        return await serve_attach(api, request, route)
    if sub == "portforward":
        from kubectl_trace.sandbox.server.portforward import serve_portforward

        return await serve_portforward(api, request, route)
    if sub == "proxy":
        from kubectl_trace.sandbox.server.proxy import serve_proxy

        return await serve_proxy(api, request, route)
    if sub == "scale":
        from kubectl_trace.sandbox.server.rest import handle_scale

        return await handle_scale(api, request, route)
    from kubectl_trace.sandbox.server.rest import handle_object_request

    return await handle_object_request(api, request, route)


def make_app(
    store: Store,
    runtime: PodRuntime,
    *,
    token: str,
    options: SandboxOptions | None = None,
    issued: IssuedCredentials | None = None,
    viewer_token: str | None = None,
) -> web.Application:
    """The API server application for one cluster (``viewer_token``: the read-only user's)."""
    app = web.Application(middlewares=[_middleware], client_max_size=64 * 1024 * 1024)
    api = ApiServer(store, runtime, token=token, options=options, issued=issued, viewer_token=viewer_token)
    app[API] = api
    app.router.add_route("*", "/{tail:.*}", _dispatch)

    async def on_shutdown(_app: web.Application) -> None:
        await api.shutdown()

    app.on_shutdown.append(on_shutdown)
    return app
