"""Regenerate the README's pictures from a real sandbox: one command, true data.

Usage: .venv/bin/python docs/screenshots.py

Starts a private demo sandbox, deploys the bad image ``badc0de`` to production (its
/healthz answers 503, so the rollout stalls on readiness), waits until the kubelet has
reported probe failures, then runs the product's own commands in process with colour on
at a fixed width and exports each screen as SVG with rich into docs/img/:

- rollout.svg  ``kubectl nodeapp rollout -n production trace-api-web --once``
- status.svg   ``kubectl nodeapp status trace-api -n production``
- logs.svg     ``kubectl nodeapp logs trace-api -n production --no-follow --tail 3``
- debug.svg    a debugging session, each command run for real as a process (colour on):
  ``forward`` and a request through it, ``inspect --cpu-profile``, then ``inspect`` until
  Ctrl-C (with real Node.js containers when a node >= 18 is found, else the refusal)
"""

from __future__ import annotations

import http.client
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kubectl_trace.cli.runner import run  # noqa: E402
from kubectl_trace.environment import Environment  # noqa: E402
from kubectl_trace.sandbox.interfaces import SandboxOptions  # noqa: E402
from kubectl_trace.sandbox.process import start_sandbox  # noqa: E402

WIDTH = 120
OUT = ROOT / "docs" / "img"


def invoke(argv: list[str]) -> tuple[str, int]:
    """Run a command in process, as on a colour terminal WIDTH columns wide."""
    out = io.StringIO()
    env = Environment(
        stdin=io.StringIO(),
        stdout=out,
        stderr=io.StringIO(),
        stdin_isatty=False,
        stdout_isatty=False,
        color=True,
        environ={"TERM": "xterm-256color", "COLUMNS": str(WIDTH)},
        width=WIDTH,
    )
    code = run([*argv, "--color", "always"], env)
    return out.getvalue(), code


def save_svg(name: str, title: str, ansi: str) -> None:
    """ANSI text → SVG through rich's recording console."""
    from rich.console import Console
    from rich.text import Text

    console = Console(
        record=True, width=WIDTH, file=io.StringIO(), force_terminal=True, color_system="truecolor"
    )
    console.print(Text.from_ansi(ansi.rstrip("\n")), soft_wrap=False, overflow="crop", no_wrap=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.svg").write_text(console.export_svg(title=title))
    print(f"wrote {OUT / f'{name}.svg'}")


class Session:
    """A real command as a process (colour on), its stdout and stderr as one transcript."""

    def __init__(self, argv: list[str], cwd: str) -> None:
        env = {**os.environ, "COLUMNS": str(WIDTH), "TERM": "xterm-256color"}
        env.pop("KUBECONFIG", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kubectl_trace", *argv, "--color", "always"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
        )
        self.text = ""
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.text += line.decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = re.search(pattern, re.sub(r"\x1b\[[0-9;]*m", "", self.text))
            if found:
                return found
            time.sleep(0.1)
        raise SystemExit(f"no {pattern!r} in: {self.text}")

    def interrupt(self) -> str:
        """Ctrl-C (SIGINT); what the command printed after it, after a ``^C`` line."""
        shown = len(self.text)
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        time.sleep(0.2)  # the reader thread takes the last lines
        return "^C\n" + self.text[shown:]

    def finish(self) -> str:
        self.process.wait(timeout=120)
        time.sleep(0.2)
        return self.text


def debug_transcript(kc: list[str], cwd: str) -> str:
    """forward + a request through it, inspect --cpu-profile, inspect until Ctrl-C: real runs."""
    dim, reset = "\x1b[2m", "\x1b[0m"
    out = []

    def prompt(command: str) -> None:
        out.append(
            f"{dim}${reset} {command}\n"
            if not command.startswith("  ")
            else f"  {dim}${reset} {command[2:]}\n"
        )

    prompt("kubectl nodeapp forward trace-api 0:3000 -n production")
    forward = Session(["forward", "trace-api", "0:3000", "-n", "production", *kc], cwd)
    port = int(forward.wait_for(r"Forwarding http://127\.0\.0\.1:(\d+)").group(1))
    out.append(forward.text)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", "/healthz")
    body = conn.getresponse().read().decode()
    conn.close()
    out.append(f"{dim}  (in another terminal){reset}\n")
    prompt(f"  curl -s http://127.0.0.1:{port}/healthz")
    out.append("  " + body.strip() + "\n")
    out.append(forward.interrupt())
    prompt("kubectl nodeapp inspect trace-api --cpu-profile 2s -o api.cpuprofile -n production")
    out.append(
        Session(
            ["inspect", "trace-api", "--cpu-profile", "2s", "-o", "api.cpuprofile", "-n", "production", *kc],
            cwd,
        ).finish()
    )
    prompt("kubectl nodeapp inspect trace-api -n production")
    inspect = Session(["inspect", "trace-api", "-n", "production", *kc], cwd)
    inspect.wait_for(r"Ctrl-C closes the inspector|error:")
    out.append(inspect.text)
    out.append(inspect.interrupt())
    return "".join(out)


def main() -> int:
    """Start a sandbox, break production, take the three pictures."""
    with tempfile.TemporaryDirectory() as tmp:
        handle = start_sandbox(
            os.path.join(tmp, "kubeconfig"), SandboxOptions(time_scale=0.1, log_rate=2.0), timeout=90
        )
        try:
            kc = ["--kubeconfig", handle.kubeconfig]
            _, code = invoke(
                ["deploy", "trace-api", "-n", "production", "--tag", "badc0de", "--yes", "--no-wait", *kc]
            )
            if code != 0:
                raise SystemExit("deploy failed")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # until readiness failures have been counted a few times
                text, _ = invoke(["status", "trace-api", "-n", "production", *kc])
                if "503" in text and "×3" in text.replace("x3", "×3"):
                    break
                time.sleep(1)
            shots = [
                (
                    "rollout",
                    "kubectl nodeapp rollout -n production --once",
                    ["rollout", "trace-api-web", "-n", "production", "--once", "--width", str(WIDTH)],
                ),
                (
                    "status",
                    "kubectl nodeapp status trace-api -n production",
                    ["status", "trace-api", "-n", "production"],
                ),
                (
                    "logs",
                    "kubectl nodeapp logs trace-api -n production",
                    ["logs", "trace-api", "-n", "production", "--no-follow", "--tail", "3"],
                ),
            ]
            for name, title, argv in shots:
                text, _ = invoke([*argv, *kc])
                save_svg(name, title, text)
            save_svg("debug", "debugging a Node.js process: forward, inspect", debug_transcript(kc, tmp))
        finally:
            handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
