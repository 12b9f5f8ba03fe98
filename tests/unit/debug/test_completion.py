"""Completion for ``forward`` and ``inspect``: the app, ``--process``, ``--pod``."""

from __future__ import annotations

from typing import Any

from kubectl_trace.cli.cmd_completion import complete
from kubectl_trace.completion.engine import Completion


class Names:
    """Cluster names as the completer's lister would return them."""

    environ: dict[str, str] = {}

    def namespace(self, override: str | None) -> str:
        return override or "default"

    def namespaces(self) -> list[str]:
        return ["default", "production"]

    def contexts(self) -> list[str]:
        return ["nodeapp-sandbox"]

    def deployments(self, namespace: str) -> list[dict[str, Any]]:
        def template(process: str) -> dict[str, Any]:
            return {"metadata": {"labels": {"app": "trace-api", "process": process}}}

        return [
            {"metadata": {"name": f"trace-api-{p}"}, "spec": {"template": template(p)}}
            for p in ("web", "worker")
        ]

    def pods(self, namespace: str) -> list[str]:
        return ["trace-api-web-7d9f8-x2k4q", "trace-ui-web-5c6b1-aa1bc"]


def values(result: Completion) -> list[str]:
    return [c.split("\t")[0] for c in result.candidates]


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
