"""Pod isolation: what a command run "in a pod" (exec, cp, Job pods) can see and touch.

With Linux namespaces (``unshare`` from util-linux, unprivileged or as root) every pod gets
a long-lived *pod sandbox* process, like the pause container of a real pod: new user (root
mapped to the sandbox's user), mount, UTS and PID namespaces, the pod's name as hostname,
and a root of its own: the host's ``/usr`` and ``/etc`` read-only, a small ``/dev``, a
fresh ``/proc`` (only the pod's processes), the pod's own writable ``/app`` (working
directory), ``/tmp``, ``/root`` (home) and ``/run``, the image's tools on ``/.image/bin``.
Nothing else of the host exists in it. Each command enters those namespaces with
``nsenter`` (a few milliseconds). The pod sandbox ends when the pod is removed, when the
sandbox stops, and when the sandbox process dies (its lifeline pipe closes).

Without namespaces the sandbox says so once and runs commands on the host in the pod's
directory with ``HOME`` and ``TMPDIR`` pointing into it; ``/tmp``, ``/app`` and
``/root`` paths in the arguments (what ``kubectl cp`` sends, and the paths in a
``sh -c`` script of exec or a Job pod) are rewritten to the pod's directories.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import termios
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "IMAGE_BIN",
    "ExecTarget",
    "PodBox",
    "PodBoxes",
    "command_members",
    "isolation_problem",
    "spawn_in_pod",
    "terminal_setup",
]

IMAGE_BIN = "/.image/bin"  # where the image's tools are inside an isolated pod
POD_HOME = "/root"
POD_APP = "/app"
_UNSHARE = ("--user", "--map-root-user", "--mount", "--uts", "--pid", "--fork", "--propagation", "private")
_ENTER = ("--user", "--preserve-credentials", "--mount", "--uts", "--pid", "--root", "--wd")
# What a pod sees of the host's /etc (read-only): what programs need to run, look users
# up, resolve names and verify TLS; never shadow files, SSH or TLS private keys.
_ETC = (
    "passwd", "group", "nsswitch.conf", "host.conf", "gai.conf", "resolv.conf", "protocols",
    "services", "networks", "os-release", "debian_version", "alpine-release", "issue",
    "localtime", "timezone", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives",
    "ssl/certs", "ssl/openssl.cnf", "ca-certificates", "ca-certificates.conf", "terminfo",
    "inputrc", "bash.bashrc", "profile", "profile.d", "shells", "environment", "mime.types",
    "magic", "locale.alias", "vim", "wgetrc",
)  # fmt: skip
# A pod path inside an argument (the fallback rewrites it into the pod's directories).
_POD_PATH = re.compile(r"(?<![\w.~/$})-])(/tmp|/app|/root)(?=/|$|[\s'\"`;:|&<>()=,])")
_ROOT_DIRS = ("usr", "etc", "dev", "proc", "tmp", "app", "root", "run", ".image/bin")

# Runs as PID 1 of the pod: set the pod's root up, say "ready HOSTPID", then become
# /pause, which waits on the lifeline (a pipe's read end) while reaping orphans.
# Arguments: base dir, pod name, image bin dir, lifeline fd, then host directories to
# show read-only at the same path.
_SETUP = r"""set -e
PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH
read -r HOSTPID _ < /proc/self/stat
exec 3<"/proc/self/fd/$4"
B=$1; R=$1/rootfs; POD=$2; BIN=$3; shift 4
hostname "$POD"
mount --bind "$R" "$R"
mount -o bind,ro /usr "$R/usr"
mount --bind "$B/etc" "$R/etc"
while IFS= read -r e; do mount -o bind,ro "/etc/$e" "$R/etc/$e"; done < "$B/etc-binds"
mount -o remount,bind,ro "$R/etc"
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -d "/$d" ] && [ ! -L "/$d" ]; then mkdir -p "$R/$d"; mount -o bind,ro "/$d" "$R/$d"; fi
done
mount -t tmpfs -o mode=755,size=1m,nosuid tmpfs "$R/dev"
for d in null zero full random urandom tty; do
  : > "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"
done
mkdir "$R/dev/pts" "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"; ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"; ln -s /proc/self/fd/2 "$R/dev/stderr"
if mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts" 2>/dev/null; then
  ln -s pts/ptmx "$R/dev/ptmx"
fi
mount -t tmpfs -o size=64m,nosuid,nodev tmpfs "$R/dev/shm"
mount -t proc -o nosuid,nodev,noexec proc "$R/proc" 2>/dev/null || true  # never the host's /proc
mount --bind "$B/app" "$R/app"
mount --bind "$B/tmp" "$R/tmp"
mount --bind "$B/home" "$R/root"
mount --bind "$B/run" "$R/run"
mount -o bind,ro "$BIN" "$R/.image/bin"
for p in "$@"; do mkdir -p "$R$p"; mount -o bind,ro "$p" "$R$p"; done
mount -o remount,bind,ro "$R"
cd "$R"
pivot_root . .
umount -l .
cd /app
echo "ready $HOSTPID"
exec /pause </dev/null >/dev/null 2>&1
"""
# PID 1 of every pod once it is set up (what `ps` shows, like a pod's pause container):
# it waits for the lifeline to close and reaps orphans meanwhile.
_PAUSE = """#!/bin/sh
# the pod sandbox of kubectl-nodeapp: ends when the sandbox lets go of the pod
cat <&3 >/dev/null
"""


def _tool(name: str) -> str | None:
    return shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def isolation_problem() -> str | None:
    """Why pods cannot be isolated here (None when they can)."""
    if not sys.platform.startswith("linux"):
        return "pod isolation needs Linux namespaces"
    for tool in ("unshare", "nsenter", "setsid", "mount", "pivot_root", "umount"):
        if _tool(tool) is None:
            return f"{tool} (util-linux) is not installed"
    unshare = _tool("unshare")
    assert unshare is not None
    try:
        result = subprocess.run(
            [unshare, *_UNSHARE, _tool("true") or "/bin/true"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if result.returncode != 0:
        return (result.stderr.strip().splitlines() or ["unshare failed"])[-1]
    return None


def _extra_binds(more: tuple[str, ...] = ()) -> list[str]:
    """Host directories the pod needs read-only at the same path: the tools' Python, ``more``.

    ``more``: e.g. the directory of the Node.js binary of real containers (a wheel's).
    """
    binds: list[str] = []
    for path in (os.path.realpath(sys.base_prefix), *(os.path.realpath(p) for p in more)):
        if path == "/usr" or path.startswith("/usr/") or path in binds:
            continue
        binds.append(path)
    return binds


@dataclass
class PodBox:
    """One pod's directories and (when isolated) its pod sandbox process."""

    base: Path
    pod: str
    image_bin: str
    isolated: bool
    pod_ip: str = ""
    on_failure: Callable[[str], None] | None = field(default=None, repr=False)  # isolation failed
    pid: int | None = None  # host pid of the pod's PID 1
    listener: asyncio.AbstractServer | None = None  # the pod's own ports (server.podhttp)
    extra_binds: tuple[str, ...] = ()  # more host directories shown read-only (_extra_binds)
    _process: asyncio.subprocess.Process | None = field(default=None, repr=False)
    _lifeline: int | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _watcher: asyncio.Task[None] | None = field(default=None, repr=False)
    _failures: int = field(default=0, repr=False)

    @property
    def app(self) -> str:
        """The pod's working directory (``/app`` inside)."""
        return str(self.base / "app")

    @property
    def tmp(self) -> str:
        """The pod's ``/tmp``."""
        return str(self.base / "tmp")

    @property
    def home(self) -> str:
        """The pod's home (``/root`` inside)."""
        return str(self.base / "home")

    @property
    def run(self) -> str:
        """The pod's ``/run``."""
        return str(self.base / "run")

    def prepare(self) -> None:
        """Create the pod's directories (idempotent)."""
        for sub in ("app", "tmp", "home", "run"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.base / "tmp", 0o1777)
        etc = self.base / "etc"
        etc.mkdir(exist_ok=True)
        (etc / "hostname").write_text(self.pod + "\n")
        (etc / "hosts").write_text(
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
            f"{self.pod_ip or '127.0.1.1'}\t{self.pod}\n"
        )
        binds: list[str] = []
        for name in _ETC:
            host, inside = Path("/etc", name), etc / name
            inside.parent.mkdir(parents=True, exist_ok=True)
            if host.is_symlink():
                if not inside.is_symlink():
                    inside.symlink_to(os.readlink(host))
            elif host.is_dir():
                inside.mkdir(exist_ok=True)
                binds.append(name)
            elif host.is_file():
                inside.touch()
                binds.append(name)
        (self.base / "etc-binds").write_text("".join(f"{name}\n" for name in binds))
        rootfs = self.base / "rootfs"
        for sub in _ROOT_DIRS:
            (rootfs / sub).mkdir(parents=True, exist_ok=True)
        pause = rootfs / "pause"
        if not pause.is_file():
            pause.write_text(_PAUSE)
            pause.chmod(0o755)
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = Path("/") / name
            link = rootfs / name
            if host.is_symlink() and not link.is_symlink():
                link.symlink_to(os.readlink(host))

    async def start(self) -> bool:
        """Start the pod sandbox process if needed; False when isolation failed for this pod."""
        if not self.isolated:
            return False
        async with self._lock:
            if self._process is not None and self._process.returncode is None:
                return True
            self.prepare()
            unshare = _tool("unshare")
            if unshare is None:
                return False
            read_end, write_end = os.pipe()
            os.set_inheritable(write_end, False)
            argv = [unshare, *_UNSHARE, "--kill-child", "/bin/sh", "-c", _SETUP, "pod-sandbox"]
            argv += [str(self.base), self.pod, self.image_bin, str(read_end), *_extra_binds(self.extra_binds)]
            try:
                process = await asyncio.create_subprocess_exec(
                    *argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    pass_fds=(read_end,),
                    start_new_session=True,
                )
            except OSError as exc:
                os.close(read_end)
                os.close(write_end)
                return self._give_up(str(exc))
            os.close(read_end)
            assert process.stdout is not None
            try:
                line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
            except TimeoutError:
                line = b""
            words = line.decode("utf-8", "replace").split()
            if len(words) != 2 or words[0] != "ready":
                _kill(process)
                os.close(write_end)
                err = b""
                if process.stderr is not None:
                    with contextlib.suppress(Exception):
                        err = await asyncio.wait_for(process.stderr.read(), timeout=2)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(process.wait(), timeout=2)
                detail = err.decode("utf-8", "replace").strip().splitlines()
                return self._give_up(detail[-1] if detail else "the pod sandbox did not start")
            self._process, self._lifeline, self.pid = process, write_end, int(words[1])
            self._watcher = asyncio.get_running_loop().create_task(self._watch(process))
            return True

    async def _watch(self, process: asyncio.subprocess.Process) -> None:
        """Report a pod sandbox process that ends while the pod still uses it."""
        code = await process.wait()
        if self._process is process:
            err = b""
            if process.stderr is not None:
                with contextlib.suppress(Exception):
                    err = await asyncio.wait_for(process.stderr.read(), timeout=1)
            print(
                f"sandbox: pod {self.pod}: its sandbox process ended (status {code}) "
                f"{err.decode('utf-8', 'replace').strip()}",
                file=sys.stderr,
            )
            self._process = None
            self.pid = None

    def _give_up(self, reason: str) -> bool:
        """A set-up failed: this command runs in the pod's directories; the next one tries again.

        Only a second failure of the same pod turns its isolation off (and tells ``PodBoxes``):
        one slow or interrupted set-up under load must not leave the pod unisolated for good.
        """
        self._failures += 1
        print(f"sandbox: pod {self.pod}: its sandbox could not be set up: {reason}", file=sys.stderr)
        if self._failures >= 2:
            self.isolated = False
            if self.on_failure is not None:
                self.on_failure(reason)
        return False

    def stop(self) -> asyncio.subprocess.Process | None:
        """End the pod sandbox (every process in the pod dies with its PID 1); the process ended."""
        process = self._process
        if process is not None:
            _kill(process)
            self._process = None
        if self.listener is not None:
            with contextlib.suppress(RuntimeError):
                self.listener.close()
            self.listener = None
        if self._lifeline is not None:
            with contextlib.suppress(OSError):
                os.close(self._lifeline)
            self._lifeline = None
        self.pid = None
        if self._watcher is not None:
            with contextlib.suppress(RuntimeError):  # its loop may be closed already
                self._watcher.cancel()
            self._watcher = None
        return process

    async def command(
        self,
        argv: list[str],
        env: dict[str, str],
        host_bin: str,
        *,
        tty: bool = False,
        enter_pid: int | None = None,
    ) -> tuple[list[str], str, dict[str, str]]:
        """(argv to start, host working directory, environment) for ``argv`` in this pod.

        ``env`` is the container's environment in host terms (``PATH`` = the image's tool
        directory ``host_bin``, ``HOME`` = the pod's working directory by default). With
        ``tty`` the command opens a session of its own inside the pod with its terminal
        (stdin) as the controlling one (``terminal_setup``): a shell's job control then
        only meets process groups it can see.
        """
        if await self.start() and self.pid is not None:
            nsenter, setsid = _tool("nsenter"), _tool("setsid")
            assert nsenter is not None and setsid is not None
            inside = dict(env)
            inside["PATH"] = IMAGE_BIN
            if inside.get("HOME") in (None, "", self.app):
                inside["HOME"] = POD_HOME
            inside.pop("TMPDIR", None)
            target = enter_pid if enter_pid is not None and os.path.exists(f"/proc/{enter_pid}") else self.pid
            enter = [nsenter, "--target", str(target), *_ENTER, "--", *([setsid, "--ctty"] if tty else [])]
            return [*enter, *argv], self.app, inside
        self.prepare()
        outside = dict(env)
        outside["PATH"] = host_bin
        if outside.get("HOME") in (None, "", self.app):
            outside["HOME"] = self.home
        outside["TMPDIR"] = self.tmp
        return [argv[0], *(self._rewrite(a) for a in argv[1:])], self.app, outside

    def _rewrite(self, arg: str) -> str:
        """``arg`` with the pod's ``/tmp``, ``/app`` and ``/root`` paths pointing into its box.

        Also paths inside an argument (``--out=/tmp/x``, ``sh -c 'echo hi > /tmp/x'``): a
        path starts after a space, quote, ``=``, ``:``, ``>`` … (never inside another path
        such as ``/var/tmp``). An argument that already names the box is left alone.
        """
        if str(self.base) in arg:
            return arg
        places = {"/tmp": self.tmp, POD_APP: self.app, POD_HOME: self.home}
        return _POD_PATH.sub(lambda match: places[match.group(1)], arg)

    def host_program(self, program: str, host_bin: str) -> str | None:
        """Where ``program`` (argv[0]) is on the host, None when the pod has no such program."""
        if "/" not in program:
            return shutil.which(program, path=host_bin)
        if not self.isolated:
            path = self._rewrite(program)
        elif program.startswith(IMAGE_BIN + "/"):
            path = host_bin + program[len(IMAGE_BIN) :]
        elif program.startswith(("/usr/", "/bin/", "/sbin/", "/lib")):
            path = program
        else:
            path = self._rewrite(program)
            if path == program:
                return None
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


@dataclass(frozen=True)
class ExecTarget:
    """Where a command runs for ``pods/exec``: a scratch directory and the pod's environment.

    ``env["PATH"]`` decides which programs exist "in the image" (e.g. no bash on alpine).
    """

    cwd: str
    env: dict[str, str]
    box: PodBox | None = None  # the pod's isolation (None: run in ``cwd`` on the host)
    enter_pid: int | None = None  # a container's PID 1 (host pid) whose namespaces to enter


def _controlling_tty() -> None:  # runs in the child between fork and exec
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def terminal_setup(command: list[str]) -> Callable[[], None] | None:
    """The ``preexec_fn`` that makes stdin the controlling terminal of ``command``.

    None for a command entered into a pod (``PodBox.command`` with ``tty``): it takes its
    terminal itself inside the pod (``setsid --ctty``); had ``nsenter`` outside the pod's
    PID namespace taken it, a shell could not hand the terminal back at exit.
    """
    return None if os.path.basename(command[0]) == "nsenter" else _controlling_tty


def command_members(pid: int) -> list[int]:
    """Host pids of what the command started as ``pid`` (a session leader) runs.

    Its session and process group, and for a command entered into a pod also the session
    its child opened there (``setsid --ctty``): what has to die when the command is killed.
    """
    table: list[tuple[int, int, int, int]] = []  # pid, ppid, pgrp, session
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
                table.append((int(entry), int(fields[1]), int(fields[2]), int(fields[3])))
            except (OSError, IndexError, ValueError):
                continue
    sessions = {pid} | {p for p, ppid, _, sid in table if ppid == pid and sid == p}
    return [p for p, _, pgrp, sid in table if p != pid and (sid in sessions or pgrp == pid)]


async def spawn_in_pod(
    target: ExecTarget, argv: list[str], *, terminal: int | None = None, **kwargs: Any
) -> asyncio.subprocess.Process:
    """Start ``argv`` in the pod of ``target`` (``PodRuntime.exec_target``): isolated when it can be.

    What exec, cp and Job pods use: the pod's environment, ``/app`` as the working directory,
    the pod's own ``/tmp`` and home; ``kwargs`` go to ``asyncio.create_subprocess_exec``
    (``stdin``, ``stdout``, ``stderr``, ``start_new_session`` …). With ``terminal`` (a pty's
    slave end) the command runs in a session of its own with it as stdin, stdout, stderr and
    controlling terminal. A program the image lacks raises ``FileNotFoundError``.
    """
    env = dict(target.env)
    host_bin = env.get("PATH", "")
    if terminal is not None:
        kwargs.update(stdin=terminal, stdout=terminal, stderr=terminal, start_new_session=True)
    box = target.box
    if box is None:
        program = shutil.which(argv[0], path=host_bin) if "/" not in argv[0] else argv[0]
        if program is None:
            raise FileNotFoundError(argv[0])
        if terminal is not None:
            kwargs["preexec_fn"] = _controlling_tty
        return await asyncio.create_subprocess_exec(
            *argv, executable=program, cwd=target.cwd, env=env, **kwargs
        )
    if box.host_program(argv[0], host_bin) is None:
        raise FileNotFoundError(argv[0])
    command, cwd, env = await box.command(
        argv, env, host_bin, tty=terminal is not None, enter_pid=target.enter_pid
    )
    if terminal is not None:
        kwargs["preexec_fn"] = terminal_setup(command)
    return await asyncio.create_subprocess_exec(*command, cwd=cwd, env=env, **kwargs)


def _kill(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


class PodBoxes:
    """Every pod's box under one root; decides once whether namespaces are available."""

    def __init__(
        self, root: Path, isolation: str | None = None, *, extra_binds: list[str] | None = None
    ) -> None:
        self.root = root
        self.extra_binds = tuple(extra_binds or ())
        wanted = (isolation or os.environ.get("NODEAPP_SANDBOX_ISOLATION", "auto")).lower()
        self.problem: str | None
        if wanted in ("off", "none", "directory", "0", "false"):
            self.problem = "turned off (NODEAPP_SANDBOX_ISOLATION=off)"
        else:
            self.problem = isolation_problem()
        if self.problem is not None:
            self._say(self.problem)
        self._boxes: dict[str, PodBox] = {}
        self._failed_pods = 0

    @staticmethod
    def _say(problem: str) -> None:
        print(
            f"sandbox: pod isolation unavailable: {problem}; exec and cp run in per-pod "
            "directories on the host (HOME, TMPDIR and /tmp, /app arguments point there)",
            file=sys.stderr,
        )

    def _failed(self, reason: str) -> None:
        """A pod's sandbox failed twice: after three such pods, no new pod gets one (said once)."""
        self._failed_pods += 1
        if self.problem is None and self._failed_pods >= 3:
            self.problem = f"pod sandboxes could not be set up: {reason}"
            self._say(self.problem)

    @property
    def isolated(self) -> bool:
        """Whether pods get namespaces of their own."""
        return self.problem is None

    def box(self, key: str, pod: str, image_bin: str, pod_ip: str = "") -> PodBox:
        """The box of pod ``key`` (created on first use)."""
        found = self._boxes.get(key)
        if found is None:
            found = PodBox(self.root / key, pod, image_bin, self.isolated, pod_ip, self._failed)
            found.extra_binds = self.extra_binds
            found.prepare()
            self._boxes[key] = found
        else:
            found.image_bin = image_bin
        return found

    def stop(self, key: str) -> None:
        """Stop the pod's sandbox process (every process in the pod ends); keep the box."""
        box = self._boxes.get(key)
        if box is not None:
            box.stop()

    def remove(self, key: str) -> None:
        """Stop the pod's sandbox process and forget the box."""
        box = self._boxes.pop(key, None)
        if box is not None:
            box.stop()

    def close(self) -> None:
        """Stop every pod sandbox process."""
        for key in list(self._boxes):
            self.remove(key)

    async def aclose(self) -> None:
        """Stop every pod sandbox process and wait until they are gone."""
        ended = [box.stop() for box in self._boxes.values()]
        self._boxes.clear()
        for process in ended:
            if process is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(process.wait(), timeout=5)
