"""``wget`` (busybox style) and ``curl`` inside a sandbox pod, for the pod's own ports.

Copied into each image's ``bin`` with the sandbox's Python on the ``#!`` line. The pod's
ports are served by the sandbox on an abstract Unix socket whose name is in
``/run/nodeapp-http`` (``$TMPDIR/../run`` without isolation); only ``localhost``,
``127.0.0.1`` and the pod's own name reach it, as only the pod's own containers listen.
Standard library only; started with ``-I`` (isolated).
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_LOCAL = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "[::1]"}


class Failure(Exception):
    """One line for stderr and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _own_names() -> set[str]:
    """The pod's own name and address (``/etc/hosts`` has the line the kubelet writes)."""
    name = os.environ.get("HOSTNAME", "")
    names = {name} if name else set()
    try:
        with open("/etc/hosts", encoding="utf-8") as handle:
            for line in handle:
                fields = line.split("#", 1)[0].split()
                if name and name in fields[1:]:
                    names.add(fields[0])
    except OSError:
        pass
    return names


def _socket_name() -> str:
    candidates = ["/run/nodeapp-http"]
    if os.environ.get("TMPDIR"):
        candidates.append(os.path.join(os.environ["TMPDIR"], "..", "run", "nodeapp-http"))
    for path in candidates:
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError:
            continue
    return ""


def _complete(raw: bytes) -> bool:
    """Whether ``raw`` holds a whole response with a ``Content-Length``.

    A server may keep the connection open after it, as Node's inspector does.
    """
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(body) >= int(value.strip())
    return False


def fetch(url: str, method: str, tool: str, timeout: float) -> tuple[str, int, list[tuple[str, str]], bytes]:
    """(status line, status, headers, body) of ``method url`` against the pod's own port."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    if parts.scheme != "http":
        raise Failure(f"{tool}: {parts.scheme} is not supported here (only http to the pod's own ports)", 1)
    host = parts.hostname or ""
    if host not in _LOCAL and host not in _own_names():
        if tool == "wget":
            raise Failure(f"wget: bad address '{host}'", 1)
        raise Failure(f"curl: (6) Could not resolve host: {host}", 6)
    port = parts.port or 80
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    curl_refused = f"curl: (7) Failed to connect to {host} port {port} after 0 ms: Couldn't connect to server"
    refused = (
        Failure("wget: can't connect to remote host (127.0.0.1): Connection refused", 1)
        if tool == "wget"
        else Failure(curl_refused, 7)
    )
    name = _socket_name()
    if not name:
        raise refused
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(timeout)
    try:
        conn.connect("\0" + name)
        agent = "Wget" if tool == "wget" else "curl/8.5.0"
        conn.sendall(
            f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: {agent}\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n".encode("latin-1")
        )
        chunks: list[bytes] = []
        while not _complete(b"".join(chunks)):  # the whole body (Content-Length), or until EOF
            chunk = conn.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except TimeoutError:
        raise Failure(f"{tool}: download timed out", 1 if tool == "wget" else 28) from None
    except OSError:
        raise refused from None
    finally:
        conn.close()
    raw = b"".join(chunks)
    if not raw:
        raise refused
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    return lines[0], status, headers, body


class _Argv:
    """The arguments left to read: each in turn, a flag's value, or more put back in front."""

    def __init__(self, args: list[str]) -> None:
        self._left = args[::-1]

    def __iter__(self) -> _Argv:
        return self

    def __next__(self) -> str:
        if not self._left:
            raise StopIteration
        return self._left.pop()

    def value(self, missing: str = "") -> str:
        """The next argument as a flag's value (``missing`` when there is none)."""
        return self._left.pop() if self._left else missing

    def put_back(self, args: list[str]) -> None:
        """Read ``args`` next."""
        self._left.extend(args[::-1])


@dataclass
class _WgetOptions:
    quiet: bool = False
    spider: bool = False
    show_headers: bool = False
    output: str | None = None
    timeout: float = 10.0
    urls: list[str] = field(default_factory=list)


def _wget_value(opts: _WgetOptions, flag: str, value: str) -> None:
    if flag == "-O":
        opts.output = value
    elif flag == "-T":
        opts.timeout = float(value or 10)


def _wget_options(args: list[str]) -> _WgetOptions:
    opts = _WgetOptions()
    argv = _Argv(args)
    for arg in argv:
        if arg in ("-q", "--quiet"):
            opts.quiet = True
        elif arg == "--spider":
            opts.spider = True
        elif arg in ("-S", "--server-response"):
            opts.show_headers = True
        elif arg in ("-O", "-T", "-U", "--header", "-Y"):
            _wget_value(opts, arg, argv.value())
        elif arg.startswith("-O") and len(arg) > 2:
            opts.output = arg[2:]
        elif arg.startswith("-q") and "O" in arg:
            opts.quiet = True
            opts.output = arg[arg.index("O") + 1 :] or argv.value("-")
        elif arg.startswith("-") and arg != "-":
            raise Failure(f"wget: unrecognized option '{arg}'", 1)
        else:
            opts.urls.append(arg)
    if not opts.urls:
        raise Failure("BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-cqS] [-O FILE] URL...", 1)
    return opts


def _wget_one(url: str, opts: _WgetOptions) -> None:
    parts = urlsplit(url if "://" in url else "http://" + url)
    say = (lambda text: None) if opts.quiet else sys.stderr.write
    say(f"Connecting to {parts.hostname}:{parts.port or 80} (127.0.0.1:{parts.port or 80})\n")
    status_line, status, headers, body = fetch(url, "HEAD" if opts.spider else "GET", "wget", opts.timeout)
    if opts.show_headers:
        lines = [status_line] + [f"{k}: {v}" for k, v in headers]
        sys.stderr.write("".join(f"  {line}\n" for line in lines))
    if status >= 400:
        raise Failure(f"wget: server returned error: {status_line}", 1)
    if opts.spider:
        say("remote file exists\n")
        return
    target = opts.output or (os.path.basename(parts.path) or "index.html")
    if target == "-":
        say("writing to stdout\n")
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        say("written to stdout\n")
        return
    say(f"saving to '{target}'\n")
    with open(target, "wb") as handle:
        handle.write(body)
    bar = "*" * 31
    say(f"{target:<20} 100% |{bar}| {len(body):>5}  0:00:00 ETA\n'{target}' saved\n")


def wget(args: list[str]) -> int:
    """BusyBox wget: -q, -O FILE|-, -S, --spider, -T SEC; saves to the URL's file name."""
    opts = _wget_options(args)
    for url in opts.urls:
        _wget_one(url, opts)
    return 0


@dataclass
class _CurlOptions:
    fail: bool = False
    include: bool = False
    head: bool = False
    method: str = "GET"
    output: str | None = None
    timeout: float = 10.0
    urls: list[str] = field(default_factory=list)


_CURL_VALUE_FLAGS = ("-o", "--output", "-X", "--request", "-m", "--max-time", "-H", "--header", "-A")
# accepted and without effect here: -s/-S (there is no progress meter), -L, -k, -v
_CURL_IGNORED = (
    *("-s", "--silent", "-S", "--show-error"),
    *("-L", "--location", "-k", "--insecure", "-v", "--verbose"),
)


def _curl_value(opts: _CurlOptions, flag: str, value: str) -> None:
    if flag in ("-o", "--output"):
        opts.output = value
    elif flag in ("-X", "--request"):
        opts.method = value.upper()
    elif flag in ("-m", "--max-time"):
        opts.timeout = float(value or 10)


def _curl_options(args: list[str]) -> _CurlOptions:
    opts = _CurlOptions()
    argv = _Argv(args)
    for arg in argv:
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2 and arg[1:].isalpha():
            argv.put_back([f"-{c}" for c in arg[1:]])
            continue
        if arg in ("-f", "--fail"):
            opts.fail = True
        elif arg in ("-i", "--include"):
            opts.include = True
        elif arg in ("-I", "--head"):
            opts.head, opts.method = True, "HEAD"
        elif arg in _CURL_VALUE_FLAGS:
            _curl_value(opts, arg, argv.value())
        elif arg.startswith("-") and arg not in _CURL_IGNORED:
            raise Failure(f"curl: option {arg}: is unknown", 2)
        elif not arg.startswith("-"):
            opts.urls.append(arg)
    if not opts.urls:
        raise Failure("curl: try 'curl --help' for more information", 2)
    return opts


def _curl_one(url: str, opts: _CurlOptions) -> None:
    status_line, status, headers, body = fetch(url, opts.method, "curl", opts.timeout)
    if opts.fail and status >= 400:
        raise Failure(f"curl: (22) The requested URL returned error: {status}", 22)
    text = b""
    if opts.include or opts.head:
        text = (status_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode()
    if not opts.head:
        text += body
    if opts.output and opts.output != "-":
        with open(opts.output, "wb") as handle:
            handle.write(text)
    else:
        sys.stdout.buffer.write(text)
        sys.stdout.buffer.flush()


def curl(args: list[str]) -> int:
    """curl: -s, -S, -f, -i, -I, -o FILE, -X METHOD, -m SEC (-L, -k, -v accepted)."""
    opts = _curl_options(args)
    for url in opts.urls:
        _curl_one(url, opts)
    return 0


def main(argv: list[str]) -> int:
    """Dispatch on the name the program was called by."""
    tool = os.path.basename(argv[0])
    try:
        return curl(argv[1:]) if tool == "curl" else wget(argv[1:])
    except Failure as failure:
        sys.stderr.write(f"{failure}\n")
        return failure.code
    except (ValueError, IndexError) as exc:
        sys.stderr.write(f"{tool}: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
