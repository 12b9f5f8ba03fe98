"""What the benchmark scripts write: machine facts, medians, tables, BENCHMARKS.md sections.

Each script owns one section of BENCHMARKS.md, delimited by
``<!-- bench:NAME -->`` … ``<!-- /bench:NAME -->``, and rewrites only that section.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "BENCHMARKS.md"
# The scripts measure this checkout's package, whichever Python runs them.
sys.path.insert(0, str(ROOT))


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


def arguments(doc: str, *, runs: int | None = None, runs_help: str | None = None) -> argparse.ArgumentParser:
    """A script's parser: its docstring as help, ``--runs`` (when it takes one) and ``--no-write``.

    The script adds its own options and calls ``parse_args``.
    """
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if runs is not None:
        parser.add_argument("--runs", type=int, default=runs, help=runs_help)
    parser.add_argument("--no-write", action="store_true", help="print the section only")
    return parser


def table(columns: Sequence[str], align: str, rows: Iterable[Sequence[object]]) -> list[str]:
    """A Markdown table; ``align`` has one letter a column, ``l`` or ``r``."""
    rule = "".join("---|" if a == "l" else "---:|" for a in align)
    return [row(columns), "|" + rule, *(row(cells) for cells in rows)]


def row(cells: Sequence[object]) -> str:
    """One row of a Markdown table."""
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def versus_table(rows: Iterable[tuple[str, float, float]]) -> list[str]:
    """A task a row: our seconds, kubectl's for the same result, and the ratio."""
    return table(
        ["task", "kubectl-nodeapp", "kubectl (peer)", "ratio"],
        "lrrr",
        [(task, ms(ours), ms(theirs), ratio(ours, theirs)) for task, ours, theirs in rows],
    )


def ratio(ours: float, theirs: float) -> str:
    """``ours / theirs`` as the tables write it."""
    return f"{ours / theirs:.2f}×"


def ms(seconds: float) -> str:
    """Seconds as whole milliseconds."""
    return f"{seconds * 1000:.0f} ms"


def publish(name: str, lines: Sequence[str], no_write: bool) -> None:
    """Print a section and, unless ``no_write``, put it in BENCHMARKS.md as section ``name``."""
    text = "\n".join(lines)
    print(text)
    if not no_write:
        update_section(name, text)
