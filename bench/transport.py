"""The lean client's transport: ``http.client`` (what ``kube.lite`` uses) vs urllib3, measured.

Usage: .venv/bin/python bench/transport.py [--runs N] [--requests R] [--no-write]

- Import cost: a fresh interpreter importing what each transport needs (``http.client`` +
  ``ssl`` vs ``urllib3``, which brings those too), minus an interpreter that imports
  nothing; medians of N alternating runs.
- One-shot requests: R sequential ``GET /api/v1/pods`` (all namespaces, ~36 kB of JSON)
  on one kept-alive TLS connection against a private sandbox, through ``LiteKube.request``
  (http.client, JSON decoded) and through a ``urllib3.PoolManager`` with the same TLS
  context and token (JSON decoded too); requests per second, medians of N rounds.

Writes the ``transport`` section of BENCHMARKS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import ROOT, median, stamp, update_section

PYTHON = str(ROOT / ".venv" / "bin" / "python")


def import_ms(statement: str) -> float:
    start = time.perf_counter()
    subprocess.run([PYTHON, "-c", statement], check=True)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    statements = {
        "nothing": "pass",
        "http.client + ssl": "import http.client, ssl",
        "urllib3": "import urllib3",
    }
    times: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(args.runs):
        for name, statement in statements.items():
            times[name].append(import_ms(statement))
    base = median(times["nothing"])
    imports = {name: median(values) - base for name, values in times.items() if name != "nothing"}

    import urllib3

    from kubectl_trace.kube.lite import connect_lite
    from kubectl_trace.kube.settings import KubeSettings
    from kubectl_trace.sandbox.interfaces import SandboxOptions
    from kubectl_trace.sandbox.process import start_sandbox

    rates: dict[str, list[float]] = {"http.client (LiteKube)": [], "urllib3 PoolManager": []}
    with tempfile.TemporaryDirectory(prefix="bench-transport-") as tmp:
        handle = start_sandbox(
            str(Path(tmp) / "kubeconfig"),
            SandboxOptions(time_scale=0.1, containers="simulated"),
            exit_with_parent=os.getpid(),
        )
        try:
            lite = connect_lite(KubeSettings(kubeconfig=handle.kubeconfig), {})
            assert lite is not None
            creds = lite.auth.current()
            pool = urllib3.PoolManager(ssl_context=creds.ssl_context, maxsize=1, retries=False)
            url = f"{handle.server}/api/v1/pods"
            headers = {"Authorization": creds.authorization or "", "Accept": "application/json"}

            def with_lite() -> None:
                lite.request("GET", "/api/v1/pods")

            def with_urllib3() -> None:
                response = pool.request("GET", url, headers=headers)
                assert response.status == 200
                json.loads(response.data)

            for run in (with_lite, with_urllib3):  # warm-up: connections open
                run()
            for _ in range(args.runs):
                for name, run in (
                    ("http.client (LiteKube)", with_lite),
                    ("urllib3 PoolManager", with_urllib3),
                ):
                    start = time.perf_counter()
                    for _ in range(args.requests):
                        run()
                    rates[name].append(args.requests / (time.perf_counter() - start))
            lite.close()
            pool.clear()
        finally:
            handle.stop()

    lines = [
        "## Transport: http.client vs urllib3 (the lean client's choice)",
        "",
        f"{stamp()} `bench/transport.py --runs {args.runs} --requests {args.requests}`.",
        "",
        "| | import cost (fresh interpreter, minus an empty one) "
        "| sequential GET /api/v1/pods (36 kB), requests/s |",
        "|---|---:|---:|",
        f"| http.client + ssl (kube.lite) | {imports['http.client + ssl']:.0f} ms "
        f"| {median(rates['http.client (LiteKube)']):.0f} |",
        f"| urllib3 (PoolManager) | {imports['urllib3']:.0f} ms "
        f"| {median(rates['urllib3 PoolManager']):.0f} |",
        "",
        "urllib3 brings http.client and ssl with it, so its import cost is added to every command's",
        "start-up; per request urllib3 is no faster (the second column, same server, same run).",
        "What urllib3 would add here (pools shared across threads, HTTPS proxies, its retries) we",
        "either do not need (one kept-alive connection per thread, our own retry policy) or leave",
        "to the fallback (an https:// proxy). Hence http.client (see kube/lite.py's docstring).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        update_section("transport", text)


if __name__ == "__main__":
    main()
