"""A small loopback-only proxy for tests: HTTP CONNECT and SOCKS5, counting the tunnels it carried.

``with TunnelProxy(hosts={"sandbox.test": "127.0.0.1"}) as proxy:`` listens on 127.0.0.1
(a free port); ``proxy.url`` is ``http://127.0.0.1:PORT`` (``proxy.socks_url`` the same
port as ``socks5://``: the first byte tells the two apart). It opens tunnels only to
loopback addresses (names are looked up in ``hosts``, never in DNS), answers 407 when
``credentials`` are set and not given, and records each tunnel's target in ``tunnels``.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import select
import socket
import threading
from collections.abc import Mapping
from typing import Any


class TunnelProxy:
    def __init__(self, hosts: Mapping[str, str] | None = None, credentials: tuple[str, str] | None = None):
        self.hosts = dict(hosts or {})
        self.credentials = credentials
        self.tunnels: list[str] = []
        self.refused: list[str] = []
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._closed = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socks_url(self) -> str:
        return f"socks5://127.0.0.1:{self.port}"

    def __enter__(self) -> TunnelProxy:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._closed = True
        self._server.close()
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    # -- serving -------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                self._open.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _resolve(self, host: str) -> str | None:
        address = self.hosts.get(host, host)
        try:
            if ipaddress.ip_address(address).is_loopback:
                return address
        except ValueError:
            pass
        return None

    def _serve(self, client: socket.socket) -> None:
        try:
            first = client.recv(1, socket.MSG_PEEK)
            target = self._socks(client) if first == b"\x05" else self._connect(client)
            if target is None:
                return
            host, port = target
            upstream = socket.create_connection((host, port), timeout=10)
            with self._lock:
                self._open.add(upstream)
            self._pipe(client, upstream)
        except (OSError, ValueError):  # ValueError: stop() closed a socket under select()
            pass
        finally:
            client.close()

    def _connect(self, client: socket.socket) -> tuple[str, int] | None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return None
            head += chunk
        lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return None
        if self.credentials is not None:
            expected = "Basic " + base64.b64encode(":".join(self.credentials).encode()).decode()
            if headers.get("proxy-authorization") != expected:
                self.refused.append(target)
                client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                return None
        host, _, port = target.rpartition(":")
        address = self._resolve(host.strip("[]"))
        if address is None:
            self.refused.append(target)
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return None
        with self._lock:
            self.tunnels.append(target)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        return address, int(port)

    def _socks(self, client: socket.socket) -> tuple[str, int] | None:
        def exact(count: int) -> bytes:
            data = client.recv(count, socket.MSG_WAITALL)  # all of them, or fewer at the end
            if len(data) < count:
                raise OSError("closed")
            return data

        _version, count = exact(2)
        methods = exact(count)
        if self.credentials is not None:
            if 2 not in methods:
                client.sendall(b"\x05\xff")
                return None
            client.sendall(b"\x05\x02")
            exact(1)
            user = exact(exact(1)[0]).decode()
            password = exact(exact(1)[0]).decode()
            ok = (user, password) == self.credentials
            client.sendall(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                return None
        else:
            client.sendall(b"\x05\x00")
        _v, _cmd, _rsv, kind = exact(4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(exact(4)))
        elif kind == 4:
            host = str(ipaddress.IPv6Address(exact(16)))
        else:
            host = exact(exact(1)[0]).decode()
        port = int.from_bytes(exact(2), "big")
        address = self._resolve(host)
        if address is None:
            self.refused.append(f"{host}:{port}")
            client.sendall(b"\x05\x02\x00\x01" + bytes(6))
            return None
        with self._lock:
            self.tunnels.append(f"{host}:{port}")
        client.sendall(b"\x05\x00\x00\x01" + bytes(6))
        return address, port

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        a.settimeout(None)
        b.settimeout(None)
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 60)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                b.close()
