"""Helpers of the logs end-to-end tests: a follower subprocess and sequence-number checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.factories import seq_of

ROOT = Path(__file__).resolve().parents[3]
BIN = ROOT / "bin"


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child: no KUBECONFIG or colour variables of the caller, our bin/ first."""
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "NO_COLOR", "FORCE_COLOR")}
    env["PATH"] = f"{BIN}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def run_logs(
    *args: str, kubeconfig: str, program: str = "kubectl-nodeapp", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``bin/PROGRAM [logs] ARGS`` to completion (``logs`` is implied by ``kubectl-nodeapp-logs``)."""
    argv = [str(BIN / program)]
    if program == "kubectl-nodeapp":
        argv.append("logs")
    argv += [*args, "--kubeconfig", kubeconfig]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=child_env(), check=False)


@dataclass
class Follower:
    """``kubectl nodeapp logs … -f`` running as a child; lines are collected with their arrival time."""

    argv: Sequence[str]
    lines: list[tuple[float, str]] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    proc: subprocess.Popen[str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Follower:
        self.proc = subprocess.Popen(
            list(self.argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
            bufsize=1,
        )
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, None), daemon=True).start()
        return self

    def _read(self, stream: object, sink: list[tuple[float, str]] | None) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._lock:
                if sink is None:
                    self.stderr.append(line.rstrip("\n"))
                else:
                    sink.append((time.time(), line.rstrip("\n")))

    def snapshot(self) -> list[tuple[float, str]]:
        with self._lock:
            return list(self.lines)

    def text(self) -> list[str]:
        return [line for _, line in self.snapshot()]

    def interrupt(self, timeout: float = 20) -> int:
        """Ctrl-C (SIGINT) and wait; returns the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def follower(*args: str, kubeconfig: str) -> Follower:
    """A started follower of ``kubectl-nodeapp logs ARGS``."""
    return Follower([str(BIN / "kubectl-nodeapp"), "logs", *args, "--kubeconfig", kubeconfig]).start()


def json_objects(lines: Iterable[str]) -> list[dict[str, object]]:
    """Every line as a JSON object (fails on a line that is not one)."""
    return [json.loads(line) for line in lines]


def sequences(objects: Iterable[dict[str, object]]) -> dict[tuple[str, str, int], list[int]]:
    """(pod, container, run) → the sequence numbers printed, in order, one per raw line.

    ``run`` counts the restart markers seen for that container (0 before the first).
    """
    out: dict[tuple[str, str, int], list[int]] = defaultdict(list)
    runs: dict[tuple[str, str], int] = defaultdict(int)
    for obj in objects:
        key = (str(obj["pod"]), str(obj["container"]))
        raw = obj.get("raw")
        if not isinstance(raw, str):
            if (obj.get("fields") or {}).get("event") != "gap":  # type: ignore[union-attr]
                runs[key] += 1  # a restart marker: a new instance numbers from 1 again
            continue
        for text in raw.split("\n"):
            n = seq_of(text)
            if n is not None:
                out[(*key, runs[key])].append(n)
    return dict(out)


def gaps_and_repeats(numbers: Sequence[int]) -> tuple[list[int], list[int]]:
    """Missing numbers between the first and the last, and numbers seen more than once."""
    seen: set[int] = set()
    repeats = []
    for n in numbers:
        if n in seen:
            repeats.append(n)
        seen.add(n)
    missing = [n for n in range(min(numbers), max(numbers) + 1) if n not in seen] if numbers else []
    return missing, repeats
