"""Regenerate the README's pictures from a real sandbox: one command, true data.

Usage: .venv/bin/python docs/screenshots.py

Starts a private demo sandbox, deploys the bad image ``badc0de`` to production (its
/healthz answers 503, so the rollout stalls on readiness), waits until the kubelet has
reported probe failures, then runs the product's own commands in process with colour on
at a fixed width and exports each screen as SVG with rich into docs/img/:

- rollout.svg  ``kubectl nodeapp rollout -n production trace-api-web --once``
- status.svg   ``kubectl nodeapp status trace-api -n production``
- logs.svg     ``kubectl nodeapp logs trace-api -n production --no-follow --tail 3``
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
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
        finally:
            handle.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
