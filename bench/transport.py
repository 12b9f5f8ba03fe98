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

import json
import time
from collections.abc import Callable

from _harness import PYTHON, alternate, private_sandbox, wall, warm_up
from _report import arguments, median, publish, stamp, table

IMPORTS = {
    "nothing": "pass",
    "http.client + ssl": "import http.client, ssl",
    "urllib3": "import urllib3",
}


NOTES = [
    "urllib3 brings http.client and ssl with it, so its import cost is added to every command's",
    "start-up; per request urllib3 is no faster (the second column, same server, same run).",
    "What urllib3 would add here (pools shared across threads, HTTPS proxies, its retries) we",
    "either do not need (one kept-alive connection per thread, our own retry policy) or leave",
    "to the fallback (an https:// proxy). Hence http.client (see kube/lite.py's docstring).",
]


def import_costs(runs: int) -> dict[str, float]:
    """Median ms of a fresh interpreter importing each transport, minus one importing nothing."""
    times = alternate(
        runs, {name: lambda s=statement: wall([PYTHON, "-c", s]) for name, statement in IMPORTS.items()}
    )
    base = median(times["nothing"])
    return {name: (median(values) - base) * 1000 for name, values in times.items() if name != "nothing"}


def request_rates(runs: int, requests: int) -> dict[str, list[float]]:
    """Requests per second of ``requests`` sequential GETs through each transport, per round."""
    import urllib3

    from kubectl_trace.kube.lite import connect_lite
    from kubectl_trace.kube.settings import KubeSettings

    with private_sandbox("bench-transport-", fixture="demo") as (handle, _work):
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

        def rate(run: Callable[[], None]) -> float:
            start = time.perf_counter()
            for _ in range(requests):
                run()
            return requests / (time.perf_counter() - start)

        warm_up({"lite": with_lite, "urllib3": with_urllib3})  # connections open
        rates = alternate(
            runs,
            {
                "http.client (LiteKube)": lambda: rate(with_lite),
                "urllib3 PoolManager": lambda: rate(with_urllib3),
            },
        )
        lite.close()
        pool.clear()
    return rates


def main() -> None:
    parser = arguments(__doc__, runs=15)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    imports = import_costs(args.runs)
    rates = request_rates(args.runs, args.requests)
    lines = [
        "## Transport: http.client vs urllib3 (the lean client's choice)",
        "",
        f"{stamp()} `bench/transport.py --runs {args.runs} --requests {args.requests}`.",
        "",
        *table(
            [
                "",
                "import cost (fresh interpreter, minus an empty one)",
                "sequential GET /api/v1/pods (36 kB), requests/s",
            ],
            "lrr",
            [
                [
                    "http.client + ssl (kube.lite)",
                    f"{imports['http.client + ssl']:.0f} ms",
                    f"{median(rates['http.client (LiteKube)']):.0f}",
                ],
                [
                    "urllib3 (PoolManager)",
                    f"{imports['urllib3']:.0f} ms",
                    f"{median(rates['urllib3 PoolManager']):.0f}",
                ],
            ],
        ),
        "",
        *NOTES,
    ]
    publish("transport", lines, args.no_write)


if __name__ == "__main__":
    main()
