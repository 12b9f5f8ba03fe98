"""What the simulated containers log, as a pure function of (pod, container, instance, time).

``plan_instance`` plans a container instance's ``instancelog.InstanceLog``: the history the
sandbox starts with, a few start-up lines, then steady lines at ``--log-rate`` per second
forever, until the kubelet stops the instance (a kill cuts the log; SIGTERM appends the
graceful-shutdown lines of ``shutdown_plan``). The lines are those of the demo apps: winston
JSON for trace-api, pino for trace-ui, logfmt for a generic image, each from a fixed pool
picked by a seed of the instance, so pods differ and a line never changes once read.

Every line carries the instance's sequence number (1, 2, 3 …): ``"seq":N`` as the last
key of a JSON line, `` seq=N`` at the end of a plain line — except the lines a container
is told to print with ``SANDBOX_LOG_ECHO`` (:func:`echo_lines`), which come out verbatim.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_trace.sandbox.instancelog import InstanceLog, Render, SecondStamp

__all__ = [
    "APP_VERSION",
    "InstanceLog",  # what plan_instance returns
    "LogPlan",
    "LogStyle",
    "append_shutdown",
    "echo_lines",
    "plan_instance",
    "process_kind",
    "shutdown_plan",
]

APP_VERSION = "1.4.2"
_POOL = 1031  # prime: the stride below visits every entry
_STRIDE = 613


class _Iso:
    """Millisecond ISO-8601 timestamps."""

    __slots__ = ("_second",)

    def __init__(self) -> None:
        self._second = SecondStamp()

    def __call__(self, t: float) -> str:
        sec = int(t)
        return f"{self._second(sec)}.{int((t - sec) * 1000):03d}Z"


# A renderer turns (index within its segment, time, seq) into the line's text.
@dataclass(frozen=True)
class LogStyle:
    """Which generator: the app, its process type, and the image fault."""

    app: str  # trace-api, trace-ui, generic
    process: str  # web, worker, clock
    fault: str | None = None


def process_kind(app: str, env: dict[str, str], container: str) -> str:
    """The process type a container runs: ``PROCESS_TYPE``, else its name, else web."""
    value = env.get("PROCESS_TYPE") or container
    return value if value in ("web", "worker", "clock") else "web"


def _json(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _gke(severity: str, message: str, **fields: Any) -> tuple[str, str]:
    """A winston-gke JSON line split around the timestamp: (head, tail before seq)."""
    head = _json({"severity": severity, "message": message})[:-1] + ',"timestamp":"'
    rest = _json(fields)[1:-1] if fields else ""
    tail = '"' + ("," + rest if rest else "") + ',"seq":'
    return head, tail


def _gke_render(parts: Sequence[tuple[str, str]], offset: int = 0, stride: int = 1) -> Render:
    iso = _Iso()
    n = len(parts)

    def render(k: int, t: float, seq: int) -> str:
        head, tail = parts[(offset + k * stride) % n]
        return f"{head}{iso(t)}{tail}{seq}}}"

    return render


def _plain_render(texts: Sequence[str], offset: int = 0, stride: int = 1) -> Render:
    n = len(texts)

    def render(k: int, t: float, seq: int) -> str:
        return f"{texts[(offset + k * stride) % n]} seq={seq}"

    return render


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


_UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "trace-cli/0.9.1 node/20.11.1",
    "Go-http-client/1.1",
)


def _request(rng: random.Random, method: str, url: str, status: int, ms: int) -> tuple[str, dict[str, Any]]:
    ua = "kube-probe/1.37" if url == "/healthz" else rng.choice(_UA)
    size = 15 if url == "/healthz" else rng.randint(120, 48_000)
    http = {
        "requestMethod": method,
        "requestUrl": url,
        "status": status,
        "responseSize": str(size),
        "userAgent": ua,
        "remoteIp": f"10.244.{rng.randint(0, 1)}.{rng.randint(2, 250)}",
        "latency": f"{ms / 1000:.3f}s",
    }
    return f"{method} {url} {status} {ms}ms", http


_TIMEOUT_STACK = (
    "TimeoutError: Query read timeout\n"
    "    at Timeout._onTimeout (/app/node_modules/pg/lib/client.js:218:21)\n"
    "    at listOnTimeout (node:internal/timers:573:17)\n"
    "    at process.processTimers (node:internal/timers:514:7)"
)
_TYPE_STACK = (
    "TypeError: Cannot read properties of undefined (reading 'spans')\n"
    "    at renderTrace (/app/dist/routes/traces.js:88:31)\n"
    "    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)\n"
    "    at next (/app/node_modules/express/lib/router/route.js:149:13)\n"
    "    at Route.dispatch (/app/node_modules/express/lib/router/route.js:119:3)\n"
    "    at /app/node_modules/express/lib/router/index.js:284:15"
)
_REFUSED_STACK = (
    "Error: connect ECONNREFUSED 10.96.112.7:5432\n"
    "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1595:16)"
)
_JOB_STACK = (
    "Error: rollup window 2024-05-01T10:00Z already locked\n"
    "    at acquireLock (/app/dist/jobs/rollup.js:41:11)\n"
    "    at async runRollup (/app/dist/jobs/rollup.js:17:3)\n"
    "    at async Worker.process (/app/dist/worker.js:63:7)"
)


def _healthz(rng: random.Random, status: int, fastest_ms: int, slowest_ms: int) -> tuple[str, str]:
    """The kubelet's probe, as the web process logs it."""
    msg, http = _request(rng, "GET", "/healthz", status, rng.randint(fastest_ms, slowest_ms))
    return _gke("INFO", msg, httpRequest=http)


def _web_entry(rng: random.Random, i: int) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.10:
        return _healthz(rng, 200, 0, 3)
    elif roll < 0.68:
        method, url, status = rng.choice(
            (
                ("GET", f"/api/traces/{_hex(rng, 8)}", 200),
                ("GET", "/api/traces?service=checkout&limit=50", 200),
                ("GET", "/api/services", 200),
                ("GET", f"/api/spans/{_hex(rng, 16)}", 200),
                ("POST", "/api/traces", 202),
                ("GET", f"/api/search?q=user%3A{rng.randint(1000, 9999)}", 200),
                ("GET", f"/api/traces/{_hex(rng, 8)}", 304),
                ("GET", f"/api/traces/{_hex(rng, 8)}", 404),
            )
        )
        msg, http = _request(rng, method, url, status, rng.randint(2, 140))
        return _gke("INFO", msg, httpRequest=http)
    elif roll < 0.78:
        key = f"traces:{_hex(rng, 8)}"
        return _gke("DEBUG", rng.choice(("cache hit", "cache miss")), key=key)
    elif roll < 0.84:
        return _gke("INFO", "pg pool stats", total=10, idle=rng.randint(5, 10), waiting=rng.randint(0, 1))
    elif roll < 0.93:
        ms = rng.randint(800, 2600)
        msg, http = _request(rng, "GET", "/api/traces?service=search&limit=500", 200, ms)
        return _gke("WARNING", f"slow request: {msg}", httpRequest=http, thresholdMs=750)
    else:
        url = f"/api/traces/{_hex(rng, 8)}"
        if rng.random() < 0.5:
            msg, http = _request(rng, "GET", url, 500, rng.randint(5000, 5100))
            err = {"name": "TimeoutError", "message": "Query read timeout", "stack": _TIMEOUT_STACK}
        else:
            msg, http = _request(rng, "GET", url, 500, rng.randint(3, 30))
            err = {
                "name": "TypeError",
                "message": "Cannot read properties of undefined (reading 'spans')",
                "stack": _TYPE_STACK,
            }
        return _gke("ERROR", f"request failed: {msg}", err=err, httpRequest=http)


def _web_unready_entry(rng: random.Random, i: int) -> tuple[str, str]:
    roll = rng.random()
    if roll < 0.35:
        return _healthz(rng, 503, 1, 4)
    elif roll < 0.65:
        err = {
            "name": "Error",
            "message": "connect ECONNREFUSED 10.96.112.7:5432",
            "stack": _REFUSED_STACK,
        }
        return _gke("ERROR", "db not connected", err=err, code="ECONNREFUSED")
    elif roll < 0.85:
        msg, http = _request(rng, "GET", f"/api/traces/{_hex(rng, 8)}", 503, rng.randint(1, 6))
        return _gke("WARNING", f"{msg} (database unavailable)", httpRequest=http)
    else:
        return _gke("INFO", "retrying database connection", attempt=rng.randint(2, 40), delayMs=5000)


def _worker_entry(rng: random.Random, i: int) -> tuple[str, str]:
    jobs = ("ingest-batch", "rollup-hourly", "index-spans", "send-digest", "cleanup-expired")
    roll = rng.random()
    job = {
        "id": _hex(rng, 6),
        "queue": rng.choice(("traces", "rollups")),
        "name": rng.choice(jobs),
        "attempt": 1,
    }
    if roll < 0.38:
        return _gke("INFO", "job started", job=job)
    elif roll < 0.78:
        return _gke("INFO", "job completed", job=job, durationMs=rng.randint(12, 4800))
    elif roll < 0.88:
        return _gke("DEBUG", "polling queue", queue=job["queue"], waiting=rng.randint(0, 25))
    elif roll < 0.96:
        job["attempt"] = rng.randint(1, 4)
        err = {"name": "Error", "message": "deadlock detected"}
        return _gke("WARNING", "job failed, will retry in 30s", job=job, err=err)
    else:
        job["attempt"] = 5
        err = {"name": "Error", "message": "rollup window already locked", "stack": _JOB_STACK}
        return _gke("ERROR", "job failed permanently", job=job, err=err)


def _clock_entry(rng: random.Random, i: int) -> tuple[str, str] | str:
    schedules = (
        ("rollup-hourly", "0 * * * *"),
        ("cleanup-expired", "*/5 * * * *"),
        ("digest-daily", "0 6 * * *"),
    )
    roll = rng.random()
    name, cron = rng.choice(schedules)
    if roll < 0.55:
        return f"[clock] tick: {rng.randint(0, 2)} schedule(s) due"
    elif roll < 0.85:
        return _gke("INFO", "schedule fired", schedule=cron, job=name, jobId=_hex(rng, 6))
    else:
        return f"[clock] next run: {name} in {rng.randint(1, 59)}m{rng.randint(0, 59)}s"


def _mixed_render(pool: Sequence[tuple[str, str] | str], offset: int) -> Render:
    iso = _Iso()
    n = len(pool)

    def render(k: int, t: float, seq: int) -> str:
        item = pool[(offset + k * _STRIDE) % n]
        if isinstance(item, str):
            return f"{item} seq={seq}"
        head, tail = item
        return f"{head}{iso(t)}{tail}{seq}}}"

    return render


def _pino_entry(rng: random.Random, i: int) -> tuple[int, str]:
    """trace-ui logs with pino: (level, JSON fragment after "hostname")."""
    roll = rng.random()
    if roll < 0.75:
        url = rng.choice(
            ("/", "/traces", f"/traces/{_hex(rng, 8)}", "/services", "/_next/data/build/index.json")
        )
        status = rng.choice((200, 200, 200, 304))
        body = {
            "req": {"id": i + 1, "method": "GET", "url": url, "remoteAddress": "10.244.0.1"},
            "res": {"statusCode": status},
            "responseTime": rng.randint(2, 180),
            "msg": "request completed",
        }
        return (30, _json(body)[1:-1])
    elif roll < 0.88:
        return (20, _json({"route": "/traces/[id]", "msg": "render cache hit"})[1:-1])
    elif roll < 0.96:
        return (40, _json({"durationMs": rng.randint(900, 3000), "msg": "slow render"})[1:-1])
    else:
        err = {"type": "FetchError", "message": "request to http://trace-api-web/api/services failed"}
        err["stack"] = (
            f"FetchError: {err['message']}\n"
            "    at ClientRequest.<anonymous> (/app/.next/server/chunks/431.js:1:8822)"
        )
        return (50, _json({"err": err, "msg": "upstream request failed"})[1:-1])


def _pino_render(pool: Sequence[tuple[int, str]], hostname: str, offset: int) -> Render:
    n = len(pool)
    host = json.dumps(hostname)

    def render(k: int, t: float, seq: int) -> str:
        level, rest = pool[(offset + k * _STRIDE) % n]
        return f'{{"level":{level},"time":{int(t * 1000)},"pid":1,"hostname":{host},{rest},"seq":{seq}}}'

    return render


def _pino_line(level: int, msg: str, hostname: str) -> Render:
    host = json.dumps(hostname)
    body = _json({"msg": msg})[1:-1]

    def render(k: int, t: float, seq: int) -> str:
        return f'{{"level":{level},"time":{int(t * 1000)},"pid":1,"hostname":{host},{body},"seq":{seq}}}'

    return render


def _generic_entry(rng: random.Random, i: int) -> str:
    path = rng.choice(("/", "/index.html", "/favicon.ico", "/status"))
    status = rng.choice((200, 200, 200, 304, 404))
    return f'level=info msg="handled request" path={path} status={status} duration={rng.randint(1, 40)}ms'


_POOLS: dict[str, Any] = {}


def _pool(name: str, entry: Callable[[random.Random, int], Any]) -> Any:
    """The ``_POOL`` entries a style's steady output cycles through (made once, the same every run)."""
    pool = _POOLS.get(name)
    if pool is None:
        rng = random.Random(f"nodeapp-sandbox-{name}")
        pool = [entry(rng, i) for i in range(_POOL)]
        _POOLS[name] = pool
    return pool


def _one(render_parts: list[Render]) -> Render:
    """A renderer for a short explicit list of lines (start-up, shutdown, crash)."""

    def render(k: int, t: float, seq: int) -> str:
        return render_parts[k](k, t, seq)

    return render


def _plain(text: str) -> Render:
    return lambda k, t, seq: f"{text} seq={seq}"


def _verbatim(text: str) -> Render:
    return lambda k, t, seq: text


ECHO_ENV = "SANDBOX_LOG_ECHO"
ECHO_B64_ENV = "SANDBOX_LOG_ECHO_B64"


def echo_lines(env: dict[str, str]) -> list[str]:
    """The lines a container is told to print verbatim once it has started.

    ``SANDBOX_LOG_ECHO``: the lines as text (newline-separated); ``SANDBOX_LOG_ECHO_B64``:
    base64 of raw bytes (newline-separated), for bytes that are not UTF-8 — they are kept
    as surrogate escapes and written back as the same bytes. Tests use them to push given
    content (terminal escapes, invalid UTF-8) through the real log path.
    """
    import base64
    import binascii

    lines: list[str] = []
    text = env.get(ECHO_ENV)
    if text:
        lines.extend(text.split("\n"))
    encoded = env.get(ECHO_B64_ENV)
    if encoded:
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raw = b""  # not base64: nothing to print
        if raw:
            lines.extend(raw.decode("utf-8", "surrogateescape").split("\n"))
    return lines


def _gke_line(severity: str, message: str, **fields: Any) -> Render:
    head, tail = _gke(severity, message, **fields)
    iso = _Iso()
    return lambda k, t, seq: f"{head}{iso(t)}{tail}{seq}}}"


@dataclass(frozen=True)
class LogPlan:
    """Timing facts of a planned instance (simulated seconds, to be scaled by the kubelet)."""

    listen_after: float  # the HTTP server accepts connections
    exits_after: float | None  # the process exits by itself (crash), else None


def _startup_lines(style: LogStyle, namespace: str, hostname: str, node_version: str) -> list[Render]:
    script = {"web": "server", "worker": "worker", "clock": "clock", "init": "migrate"}[style.process]
    npm = [_plain(f"> trace-api@{APP_VERSION} start"), _plain(f"> node dist/{script}.js")]
    db = f"db.{namespace}.svc.cluster.local"
    if style.fault == "crash":
        if style.app == "trace-ui":
            return [_plain(f"> trace-ui@{APP_VERSION} start"), _plain("> node server.js")]
        return npm if style.app == "trace-api" else []
    if style.app == "trace-ui":
        return [
            _plain(f"> trace-ui@{APP_VERSION} start"),
            _plain("> next start -p 3000"),
            _plain("  ▲ Next.js 14.1.4"),
            _plain("  - Local:        http://localhost:3000"),
            _pino_line(30, "Ready in 1.8s", hostname),
        ]
    if style.app == "generic":
        return [_plain('level=info msg="starting server" addr=:8080'), _plain('level=info msg="ready"')]
    if style.process == "web":
        lines = [
            *npm,
            _gke_line("INFO", "config loaded", env=namespace, processType="web", node=f"v{node_version}"),
        ]
        if style.fault == "unready":
            err = {
                "name": "Error",
                "message": "connect ECONNREFUSED 10.96.112.7:5432",
                "stack": _REFUSED_STACK,
            }
            lines.append(_gke_line("ERROR", "db not connected", err=err, code="ECONNREFUSED"))
        else:
            lines.append(_gke_line("INFO", "connected to postgres", host=db, pool=10))
        if style.fault == "slow-start":
            lines.append(_gke_line("INFO", "warming caches (this can take a while)", entries=250_000))
        lines.append(_plain("Listening on :3000"))
        return lines
    if style.process == "worker":
        return [
            *npm,
            _gke_line("INFO", "connected to postgres", host=db, pool=4),
            _plain("worker ready: queues=traces,rollups concurrency=4"),
        ]
    return [*npm, _plain("clock started: 3 schedules (rollup-hourly, cleanup-expired, digest-daily)")]


_CRASH = (
    "node:internal/modules/cjs/loader:1148",
    "  throw err;",
    "  ^",
    "Error: Cannot find module 'pg-native'",
    "Require stack:",
    "- /app/node_modules/pg/lib/native/client.js",
    "- /app/node_modules/pg/lib/native/index.js",
    "- /app/node_modules/pg/lib/index.js",
    "- /app/dist/db.js",
    "- /app/dist/{script}.js",
    "    at Module._resolveFilename (node:internal/modules/cjs/loader:1145:15)",
    "    at Module._load (node:internal/modules/cjs/loader:986:27)",
    "    at Module.require (node:internal/modules/cjs/loader:1233:19)",
    "    at require (node:internal/modules/helpers:179:18)",
    "    at Object.<anonymous> (/app/node_modules/pg/lib/native/client.js:4:14)",
    "    at Module._compile (node:internal/modules/cjs/loader:1358:14) {",
    "  code: 'MODULE_NOT_FOUND',",
    "  requireStack: [",
    "    '/app/node_modules/pg/lib/native/client.js',",
    "    '/app/node_modules/pg/lib/native/index.js',",
    "    '/app/node_modules/pg/lib/index.js',",
    "    '/app/dist/db.js',",
    "    '/app/dist/{script}.js'",
    "  ]",
    "}",
    "Node.js v{node}",
)


def _steady(style: LogStyle, seed: int, hostname: str) -> Render:
    if style.app == "trace-ui":
        return _pino_render(_pool("ui", _pino_entry), hostname, seed % _POOL)
    if style.app == "generic":
        return _plain_render(_pool("generic", _generic_entry), seed % _POOL, _STRIDE)
    if style.process == "worker":
        return _gke_render(_pool("worker", _worker_entry), seed % _POOL, _STRIDE)
    if style.process == "clock":
        return _mixed_render(_pool("clock", _clock_entry), seed % _POOL)
    if style.fault == "unready":
        return _gke_render(_pool("web-unready", _web_unready_entry), seed % _POOL, _STRIDE)
    return _gke_render(_pool("web", _web_entry), seed % _POOL, _STRIDE)


def instance_seed(namespace: str, pod: str, container: str, instance: int) -> int:
    """A stable number for one container instance (varies the lines between pods)."""
    digest = hashlib.blake2b(f"{namespace}/{pod}/{container}/{instance}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def plan_instance(
    style: LogStyle,
    *,
    namespace: str,
    pod: str,
    container: str,
    instance: int,
    started_at: float,
    rate: float,
    backlog: int,
    scale: float,
    node_version: str,
    backlog_until: float | None = None,
    echo: Sequence[str] = (),
) -> tuple[InstanceLog, LogPlan]:
    """Plan the log of a container instance that starts at ``started_at`` (epoch seconds).

    ``echo``: lines printed verbatim after the start-up lines, or just before a crash
    (:func:`echo_lines`).
    Returns the log and the process's timing (listen, crash) in simulated seconds.
    """
    seed = instance_seed(namespace, pod, container, instance)
    log = InstanceLog(started_at)
    if style.process == "init" and style.fault != "crash":
        lines = [
            _plain(f"> {style.app}@{APP_VERSION} migrate"),
            _plain("checking pending migrations"),
            _plain("0 pending migrations, database is up to date"),
        ]
        log.append_at([started_at + scale * (0.05 + 0.15 * i) for i in range(len(lines))], _one(lines))
        return log, LogPlan(listen_after=math.inf, exits_after=0.6)
    steady = _steady(style, seed, pod)
    if backlog > 0:
        dt = min(1.0 / rate if rate > 0 else 0.01, 600.0 / backlog)
        until = started_at if backlog_until is None or backlog_until > started_at else backlog_until
        t0 = until - backlog * dt
        # the history is the same for every container of this style: rendered once
        log.append_shared(style, t0, dt, backlog, lambda: _steady(style, 0, style.app))
    echoed = [_verbatim(text) for text in echo]
    startup = _startup_lines(style, namespace, pod, node_version)
    if style.fault != "crash":
        startup += echoed
    listen_after = {"web": 1.5, "worker": 1.2, "clock": 0.4, "init": 0.4}[style.process]
    if style.app == "trace-ui":
        listen_after = 1.8
    elif style.app == "generic":
        listen_after = 0.3
    if style.fault == "slow-start":
        listen_after = 4.0
    # start-up lines spread over the time until the server listens
    offsets = [0.02 + (listen_after - 0.02) * i / max(1, len(startup) - 1) for i in range(len(startup))]
    if style.fault == "crash":
        script = {"web": "server", "worker": "worker", "clock": "clock", "init": "migrate"}[style.process]
        crash = [line.replace("{script}", script).replace("{node}", node_version) for line in _CRASH]
        offsets = [0.02 + 0.03 * i for i in range(len(startup))]
        startup = startup + [_plain(text) for text in crash] + echoed  # the last words before exit
        offsets += [0.35 + 0.001 * i for i in range(len(crash) + len(echoed))]
        times = [started_at + scale * o for o in offsets]
        log.append_at(times, _one(startup))
        return log, LogPlan(listen_after=math.inf, exits_after=0.4)
    log.append_at([started_at + scale * o for o in offsets], _one(startup))
    if rate > 0:
        first = started_at + scale * listen_after + 1.0 / rate
        log.append(first, 1.0 / rate, None, steady)
    return log, LogPlan(listen_after=listen_after, exits_after=None)


def shutdown_plan(style: LogStyle, pod: str) -> tuple[list[Render], float]:
    """Graceful-shutdown lines after SIGTERM and how long (simulated seconds) it takes."""
    if style.app == "trace-ui":
        return [
            _pino_line(30, "received SIGTERM, shutting down", pod),
            _pino_line(30, "server closed", pod),
        ], 0.5
    if style.app == "generic":
        return [_plain('level=info msg="shutting down" signal=terminated')], 0.2
    if style.fault == "crash":
        return [], 0.0
    if style.process == "web":
        return [
            _gke_line("INFO", "SIGTERM received: closing HTTP server", signal="SIGTERM"),
            _gke_line("INFO", "HTTP server closed", drainedConnections=3),
            _gke_line("INFO", "postgres pool ended"),
            _gke_line("INFO", "shutdown complete", exitCode=0),
        ], 1.0
    if style.process == "worker":
        return [
            _gke_line("INFO", "SIGTERM received: pausing queues", signal="SIGTERM"),
            _gke_line("INFO", "waiting for running jobs", running=1),
            _gke_line("INFO", "job completed", durationMs=1830),
            _gke_line("INFO", "worker stopped", exitCode=0),
        ], 2.5
    return [_plain("SIGTERM received, stopping scheduler"), _plain("clock stopped")], 0.2


def append_shutdown(log: InstanceLog, renders: list[Render], start: float, duration_real: float) -> None:
    """Append shutdown lines spread over ``duration_real`` seconds from ``start``."""
    if not renders:
        return
    n = len(renders)
    times = [start + duration_real * (i + 0.5) / n for i in range(n)]
    log.append_at(times, _one(renders))
