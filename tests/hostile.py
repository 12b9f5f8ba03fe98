"""A corpus of hostile strings for terminal output, and the check that output is safe.

Each entry is text a cluster user controls (a log line, an Event message, an annotation,
an env value) that a terminal would act on if written raw. ``assert_terminal_safe`` fails
when output holds any control character other than tab, newline and our own SGR colours.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

ESC = "\x1b"

CORPUS: dict[str, str] = {
    "osc0-title": f"{ESC}]0;pwned-title\x07",
    "osc2-title": f"{ESC}]2;pwned-title{ESC}\\",
    "osc8-link": f"{ESC}]8;;https://evil.example/{ESC}\\click{ESC}]8;;{ESC}\\",
    "osc52-clipboard": f"{ESC}]52;c;ZXZlbnQtY2xpcA=={ESC}\\",
    "csi-clear": f"{ESC}[2J{ESC}[H",
    "csi-cursor": f"{ESC}[5A{ESC}[10Chidden",
    "dcs": f"{ESC}Pq#0;2;0;0;0#0~~@@vv{ESC}\\",
    "apc": f"{ESC}_Gf=100;AAAA{ESC}\\",
    "c1-csi": "\x9b2J after-c1",
    "nul": "before\x00after",
    "backspace": "secret\x08\x08\x08\x08\x08\x08public",
    "lone-cr": "harmless\rEVIL",
    "bidi": "file\u202etxt.exe",
    "del": "rub\x7fout",
}
"""Name → hostile text (valid UTF-8; invalid bytes are pushed through the log path)."""

INVALID_UTF8 = b"bad-bytes \xff\xfe\xc3( end"

# What must be visible after sanitising (proves the text arrived, shown, not dropped).
VISIBLE_MARKS = ("^[]52;c;ZXZlbnQtY2xpcA==", "^[[2J", "<9b>2J", "^@", "^H", "harmless^MEVIL", "<202e>", "^?")

_OUR_SGR = re.compile(r"\x1b\[[0-9;]*m")
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_terminal_safe(text: str, *, colors: bool = False) -> None:
    """No control character except tab and newline (and SGR colours when ``colors``)."""
    checked = _OUR_SGR.sub("", text) if colors else text
    found = _FORBIDDEN.search(checked)
    assert found is None, (
        f"control character {found.group()!r} at {found.start()}: {checked[max(0, found.start() - 60) : found.start() + 60]!r}"
    )


def assert_marks_shown(text: str, marks: tuple[str, ...] = VISIBLE_MARKS) -> None:
    """Every hostile string arrived, shown visibly."""
    missing = [m for m in marks if m not in text]
    assert not missing, f"not shown: {missing}\n{text[-3000:]}"


class TtyBuffer(io.StringIO):
    """A StringIO that says it is a terminal (with a bytes layer, like sys.stdout)."""

    def __init__(self, tty: bool = True) -> None:
        super().__init__()
        self.buffer = io.BytesIO()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def text(self) -> str:
        return self.getvalue() + self.buffer.getvalue().decode("utf-8", "replace")


@dataclass(frozen=True)
class TtyRun:
    """What a command wrote to a (pretend) terminal."""

    stdout: str
    stderr: str
    exit_code: int
    raw: bytes  # stdout as bytes (what a pipe would get)


def run_on_tty(*argv: str, kubeconfig: str, color: bool = True, width: int = 160, tty: bool = True) -> TtyRun:
    """``kubectl nodeapp ARGV…`` in process with stdout a terminal (colour on by default).

    ``tty=False``: stdout is a pipe instead (no colour), to compare.
    """
    from kubectl_trace.cli.runner import run
    from tests.inprocess import buffered_env

    out, err = TtyBuffer(tty), TtyBuffer(tty)
    env = buffered_env(
        stdout=out,
        stderr=err,
        stdout_isatty=tty,
        color=color and tty,
        environ={"TERM": "xterm-256color"},
        width=width,
    )
    code = run(["--kubeconfig", kubeconfig, *argv], env)
    raw = out.getvalue().encode("utf-8", "surrogateescape") + out.buffer.getvalue()
    return TtyRun(out.text(), err.text(), code, raw)


def hostile_lines() -> list[str]:
    """The corpus as one list (each line tagged with its name)."""
    return [f"[{name}] {text}" for name, text in CORPUS.items()]
