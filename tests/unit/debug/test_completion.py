"""Completion for ``forward`` and ``inspect``: the app, ``--process``, ``--pod``."""

from __future__ import annotations

from typing import Any

from kubectl_trace.completion.engine import complete
from tests.unit.completion.test_engine import Names, values


def test_forward_completes_the_app_the_process_and_the_pod() -> None:
    names: Any = Names()
    assert "trace-api" in values(complete(None, ["forward", "-n", "production", "trace-a"], {}, names))
    assert values(complete(None, ["forward", "trace-api", "0:3000", "--process", "w"], {}, names)) == [
        "web",
        "worker",
    ]
    assert values(complete(None, ["forward", "trace-api", "0:3000", "--pod", "trace-api"], {}, names)) == [
        "trace-api-web-7d9f8-x2k4q"
    ]
    assert "--pod" in values(complete(None, ["forward", "trace-api", "--p"], {}, names))


def test_inspect_completes_the_app_and_leaves_the_output_file_to_the_shell() -> None:
    names: Any = Names()
    assert "trace-api" in values(complete(None, ["inspect", "trace-a"], {}, names))
    assert complete(None, ["inspect", "trace-api", "--heap-snapshot", "-o", ""], {}, names).directive == 0
    flags = values(complete(None, ["inspect", "trace-api", "--"], {}, names))
    assert {"--cpu-profile", "--heap-snapshot", "--output", "--pod", "--process", "--port"} <= set(flags)
