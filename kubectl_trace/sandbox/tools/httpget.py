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


def wget(args: list[str]) -> int:
    """BusyBox wget: -q, -O FILE|-, -S, --spider, -T SEC; saves to the URL's file name."""
    quiet = spider = show_headers = False
    output: str | None = None
    timeout = 10.0
    urls: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-q", "--quiet"):
            quiet = True
        elif arg == "--spider":
            spider = True
        elif arg in ("-S", "--server-response"):
            show_headers = True
        elif arg in ("-O", "-T", "-U", "--header", "-Y"):
            i += 1
            value = args[i] if i < len(args) else ""
            if arg == "-O":
                output = value
            elif arg == "-T":
                timeout = float(value or 10)
        elif arg.startswith("-O") and len(arg) > 2:
            output = arg[2:]
        elif arg.startswith("-q") and "O" in arg:
            quiet = True
            rest = arg[arg.index("O") + 1 :]
            if rest:
                output = rest
            else:
                i += 1
                output = args[i] if i < len(args) else "-"
        elif arg.startswith("-") and arg != "-":
            sys.stderr.write(f"wget: unrecognized option '{arg}'\n")
            return 1
        else:
            urls.append(arg)
        i += 1
    if not urls:
        sys.stderr.write("BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-cqS] [-O FILE] URL...\n")
        return 1
    for url in urls:
        parts = urlsplit(url if "://" in url else "http://" + url)
        if not quiet:
            host = f"{parts.hostname}:{parts.port or 80}"
            sys.stderr.write(f"Connecting to {host} (127.0.0.1:{parts.port or 80})\n")
        status_line, status, headers, body = fetch(url, "HEAD" if spider else "GET", "wget", timeout)
        if show_headers:
            lines = [status_line] + [f"{k}: {v}" for k, v in headers]
            sys.stderr.write("".join(f"  {line}\n" for line in lines))
        if status >= 400:
            raise Failure(f"wget: server returned error: {status_line}", 1)
        if spider:
            if not quiet:
                sys.stderr.write("remote file exists\n")
            continue
        target = output or (os.path.basename(parts.path) or "index.html")
        if target == "-":
            if not quiet:
                sys.stderr.write("writing to stdout\n")
            sys.stdout.buffer.write(body)
            sys.stdout.buffer.flush()
            if not quiet:
                sys.stderr.write("written to stdout\n")
            continue
        if not quiet:
            sys.stderr.write(f"saving to '{target}'\n")
        with open(target, "wb") as handle:
            handle.write(body)
        if not quiet:
            bar = "*" * 31
            sys.stderr.write(f"{target:<20} 100% |{bar}| {len(body):>5}  0:00:00 ETA\n'{target}' saved\n")
    return 0


def curl(args: list[str]) -> int:
    """curl: -s, -S, -f, -i, -I, -o FILE, -X METHOD, -m SEC (-L, -k, -v accepted)."""
    silent = fail = include = head = False
    method = "GET"
    output: str | None = None
    timeout = 10.0
    urls: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2 and arg[1:].isalpha():
            args[i : i + 1] = [f"-{c}" for c in arg[1:]]
            continue
        if arg in ("-s", "--silent"):
            silent = True
        elif arg in ("-f", "--fail"):
            fail = True
        elif arg in ("-i", "--include"):
            include = True
        elif arg in ("-I", "--head"):
            head, method = True, "HEAD"
        elif arg in ("-o", "--output", "-X", "--request", "-m", "--max-time", "-H", "--header", "-A"):
            i += 1
            value = args[i] if i < len(args) else ""
            if arg in ("-o", "--output"):
                output = value
            elif arg in ("-X", "--request"):
                method = value.upper()
            elif arg in ("-m", "--max-time"):
                timeout = float(value or 10)
        elif arg in ("-S", "--show-error", "-L", "--location", "-k", "--insecure", "-v", "--verbose"):
            pass
        elif arg.startswith("-"):
            sys.stderr.write(f"curl: option {arg}: is unknown\n")
            return 2
        else:
            urls.append(arg)
        i += 1
    if not urls:
        sys.stderr.write("curl: try 'curl --help' for more information\n")
        return 2
    _ = silent
    for url in urls:
        status_line, status, headers, body = fetch(url, method, "curl", timeout)
        if fail and status >= 400:
            raise Failure(f"curl: (22) The requested URL returned error: {status}", 22)
        text = b""
        if include or head:
            text = (status_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode()
        if not head:
            text += body
        if output and output != "-":
            with open(output, "wb") as handle:
                handle.write(text)
        else:
            sys.stdout.buffer.write(text)
            sys.stdout.buffer.flush()
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
