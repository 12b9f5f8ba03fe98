"""Raw mode is always undone; window size; signals become exceptions and are put back."""

import fcntl
import os
import shutil
import signal
import struct
import subprocess
import termios

import pytest

from kubectl_trace.shell.terminal import (
    Terminated,
    raw_mode,
    signal_handlers,
    terminal_size,
    terminate_on_signals,
)


@pytest.fixture
def pty_pair():
    leader, follower = os.openpty()
    yield leader, follower
    os.close(leader)
    os.close(follower)


def stty_g(fd: int) -> str:
    stty = shutil.which("stty")
    if stty is None:
        pytest.skip("stty is not installed")
    return subprocess.run([stty, "-g"], stdin=fd, capture_output=True, text=True, check=True).stdout.strip()


def test_raw_mode_changes_the_terminal_and_puts_it_back(pty_pair):
    _, tty = pty_pair
    before = stty_g(tty)
    attributes = termios.tcgetattr(tty)
    with raw_mode(tty) as saved:
        assert saved == attributes
        lflag = termios.tcgetattr(tty)[3]
        assert not lflag & termios.ICANON and not lflag & termios.ECHO and not lflag & termios.ISIG
        assert stty_g(tty) != before
    assert stty_g(tty) == before


def test_raw_mode_is_undone_when_the_block_raises(pty_pair):
    _, tty = pty_pair
    before = termios.tcgetattr(tty)
    with pytest.raises(RuntimeError), raw_mode(tty):
        raise RuntimeError("boom")
    assert termios.tcgetattr(tty) == before


def test_sigterm_becomes_terminated_and_handlers_are_put_back(pty_pair):
    _, tty = pty_pair
    before = termios.tcgetattr(tty)
    previous = signal.getsignal(signal.SIGTERM)

    def terminate() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs at the next bytecode boundary
            pass

    with pytest.raises(Terminated) as info, signal_handlers(terminate_on_signals()), raw_mode(tty):
        terminate()
    assert info.value.exit_code == 128 + signal.SIGTERM
    assert info.value.message == "terminated by SIGTERM"
    assert termios.tcgetattr(tty) == before
    assert signal.getsignal(signal.SIGTERM) is previous


def test_terminal_size_reads_the_window_and_none_for_non_terminals(pty_pair, tmp_path):
    leader, tty = pty_pair
    fcntl.ioctl(leader, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    assert terminal_size(tty) == (120, 40)
    with open(tmp_path / "f", "w") as handle:
        assert terminal_size(handle.fileno()) is None
