"""Finding the app's node process in a container's process list (pure)."""

from __future__ import annotations

import subprocess

import pytest

from kubectl_trace.debug.nodeproc import (
    LIST_SCRIPT,
    NoNodeProcess,
    Process,
    choose_node,
    inspector_port,
    is_node,
    parse_processes,
)


def record(pid: int, ppid: int, comm: str, *argv: str) -> bytes:
    stat = f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 1 0 0 0".encode()
    return (
        b"\x01"
        + str(pid).encode()
        + b"\x02"
        + stat
        + b"\x03"
        + b"\x00".join(a.encode() for a in argv)
        + b"\x00"
    )


def test_the_listing_script_runs_in_a_plain_sh_and_parses() -> None:
    # The real script, run by the local sh over this machine's /proc: our own process is in it.
    out = subprocess.run(["sh", "-c", LIST_SCRIPT], capture_output=True, check=True, timeout=30).stdout
    processes = parse_processes(out)
    assert processes and all(p.pid > 0 for p in processes)
    assert any(p.program == "sh" and "/proc/[0-9]*" in " ".join(p.argv) for p in processes)


def test_npm_as_pid_1_is_skipped_for_the_node_it_started() -> None:
    listing = (
        record(1, 0, "npm start", "npm start")  # npm sets its title: argv[0] is rewritten
        + record(17, 1, "sh", "sh", "-c", "node server.js")
        + record(18, 17, "node", "node", "server.js")
        + record(40, 0, "sh", "sh", "-c", "…listing…")
    )
    processes = parse_processes(listing)
    assert [p.pid for p in processes] == [1, 17, 18, 40]
    assert processes[2].ppid == 17 and processes[2].comm == "node"
    chosen = choose_node(processes, "pod x")
    assert chosen.pid == 18 and chosen.command == "node server.js"


def test_node_running_a_package_manager_is_not_the_app() -> None:
    npm = Process(
        1, 0, "node", ("/usr/local/bin/node", "/usr/local/lib/node_modules/npm/bin/npm-cli.js", "start")
    )
    yarn = Process(2, 0, "node", ("node", "/opt/yarn/bin/yarn.js", "start"))
    app = Process(3, 1, "node", ("/usr/local/bin/node", "--max-old-space-size=400", "dist/main.js"))
    assert not is_node(npm) and not is_node(yarn) and is_node(app)
    assert choose_node([npm, yarn, app], "pod x") is app


def test_the_lowest_node_pid_wins_and_a_comm_of_node_counts() -> None:
    primary = Process(1, 0, "node", ("node", "cluster.js"))
    worker = Process(9, 1, "node", ("node", "cluster.js"))
    titled = Process(5, 0, "node", ("my-api",))  # process.title = 'my-api'
    assert choose_node([worker, primary], "pod x") is primary
    assert is_node(titled)


def test_no_node_names_what_runs_instead() -> None:
    processes = parse_processes(record(1, 0, "sh", "/bin/sh", "/pause") + record(7, 0, "cat", "cat"))
    with pytest.raises(NoNodeProcess) as caught:
        choose_node(processes, "pod web-1 (container web)")
    assert (
        caught.value.message == "no Node.js process in pod web-1 (container web); PID 1 is `/bin/sh /pause`"
    )


def test_garbage_records_are_skipped() -> None:
    assert parse_processes(b"noise\x01abc\x02\x03\x01" + record(3, 1, "node", "node", "a.js")[1:]) == [
        Process(3, 1, "node", ("node", "a.js"))
    ]


@pytest.mark.parametrize(
    ("argv", "options", "port"),
    [
        (("node", "server.js"), (), 9229),
        (("node", "--inspect-port=9339", "server.js"), (), 9339),
        (("node", "--inspect=0.0.0.0:9400", "server.js"), (), 9400),
        (("node", "--inspect", "server.js"), (), 9229),
        (("node", "server.js", "--inspect-port=1"), (), 9229),  # the app's own argument
        (("node", "server.js"), ("--max-old-space-size=512 --inspect-port=9500",), 9500),
        (("node", "--inspect-port=9600", "server.js"), ("--inspect-port=9500",), 9600),  # argv wins
    ],
)
def test_the_inspector_port_comes_from_argv_and_node_options(
    argv: tuple[str, ...], options: tuple[str, ...], port: int
) -> None:
    assert inspector_port(Process(1, 0, "node", argv), options) == port
