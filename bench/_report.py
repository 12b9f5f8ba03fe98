"""Shared helpers for the benchmark scripts: machine facts, medians, BENCHMARKS.md sections.

Each script owns one section of BENCHMARKS.md, delimited by
``<!-- bench:NAME -->`` … ``<!-- /bench:NAME -->``, and rewrites only that section.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"


def _compile_package() -> None:
    """Write the package's byte-code first, as ``install.sh`` does.

    A machine with ``PYTHONDONTWRITEBYTECODE`` set (ours has) would otherwise compile
    every module of the package again in every measured run.
    """
    import compileall

    compileall.compile_dir(str(ROOT / "kubectl_trace"), quiet=2)


_compile_package()


def machine() -> str:
    """One line about the machine the figures come from."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) // 1024 // 1024} GiB RAM"
                break
    except OSError:
        pass
    kubectl = ""
    exe = ROOT / ".venv" / "bin" / "kubectl"
    if exe.exists():
        out = subprocess.run([str(exe), "version", "--client"], capture_output=True, text=True, check=False)
        kubectl = f", kubectl {out.stdout.split()[2] if out.stdout else '?'}"
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}, Linux {platform.release()}, "
        f"Python {platform.python_version()}{kubectl}"
    )


def stamp() -> str:
    """Date and machine, for the head of a section."""
    return f"Measured {time.strftime('%Y-%m-%d %H:%M %Z')} on {machine()}."


def median(values: Sequence[float]) -> float:
    """The median (no statistics import in callers)."""
    return statistics.median(values)


def update_section(name: str, markdown: str) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md with ``markdown``."""
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    )
    BENCHMARKS.write_text(text)


def first_output(argv: list[str], expect: bytes | None = None) -> float:
    """Seconds from spawn to the first byte on stdout (the process is then waited for).

    Raises when the command fails, or when ``expect`` is given and its whole stdout differs.
    """
    start = time.perf_counter()
    child = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
    )
    assert child.stdout is not None
    byte = child.stdout.read(1)
    elapsed = time.perf_counter() - start
    rest, err = child.communicate(timeout=60)
    if not byte or child.returncode != 0 or (expect is not None and byte + rest != expect):
        raise RuntimeError(f"{argv[0]} failed ({child.returncode}): {byte + rest!r} {err[-300:]!r}")
    return elapsed
