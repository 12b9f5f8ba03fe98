"""Ending a child process the tests started."""

from __future__ import annotations

import signal
import subprocess


def end(process: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    """Send ``sig`` if it still runs and wait; killed if it has not ended within ``timeout``. Its exit status."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()
