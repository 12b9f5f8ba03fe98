"""A rollout under API errors and dropped streams: every old pod's last lines arrive, or a gap is said.

The hard combination: ``--log-rate 50``, ``api-errors`` at rate 0.5, a deploy, and
the log streams dropped again and again while old pods shut down and are deleted. For
every pod that existed before the deploy, the follower must print its shutdown lines, or
report (stderr warning and a ``gap`` record) that they could not be read — never silence.
"""

from __future__ import annotations

import json
import os
import time

import pytest

from kubectl_trace.kube.errors import KubeError

from ._follow import follower

# the last line each process prints on SIGTERM (kubectl_trace.sandbox.loggen.shutdown_plan)
LAST_WORDS = {"web": "shutdown complete", "worker": "worker stopped", "clock": "clock stopped"}
REPO = "registry.sandbox.local/trace/trace-api"
RUNS = int(os.environ.get("NODEAPP_GAP_TEST_RUNS", "1"))


def _pods(kube: object) -> dict[str, str]:
    """Pod name → process of the trace-api pods in production."""
    out = {}
    for p in kube.list("pods", "production", label_selector="app=trace-api").items:  # type: ignore[attr-defined]
        out[p["metadata"]["name"]] = p["metadata"]["labels"].get("process", "web")
    return out


def _set_image(kube: object, name: str, tag: str) -> bool:
    d = kube.get("deployments", name, "production")  # type: ignore[attr-defined]
    container = d["spec"]["template"]["spec"]["containers"][0]["name"]
    patch = {"spec": {"template": {"spec": {"containers": [{"name": container, "image": f"{REPO}:{tag}"}]}}}}
    kube.patch("deployments", name, patch, "production")  # type: ignore[attr-defined]
    return True


def _tried(call: object) -> bool:
    try:
        return bool(call())  # type: ignore[operator]
    except KubeError:
        return False  # the api-errors fault: try again


@pytest.mark.slow
@pytest.mark.parametrize("run", range(RUNS))
def test_old_pods_last_lines_arrive_or_a_gap_is_reported(run, sandbox_factory, kube_for, eventually):
    sandbox = sandbox_factory(fixture="demo", log_rate=50.0, time_scale=0.5)
    kube = kube_for(sandbox)
    eventually(lambda: len(_pods(kube)) >= 3, timeout=60, message="trace-api pods")
    f = follower("trace-api", "-n", "production", "-o", "json", kubeconfig=sandbox.kubeconfig)
    try:
        old = _pods(kube)
        eventually(
            lambda: {json.loads(x)["pod"] for x in f.text()} >= set(old),
            timeout=30,
            message="every pod streams",
        )
        sandbox.admin("POST", "faults/api-errors", {"rate": 0.5, "seconds": 25})
        for name in ("trace-api-web", "trace-api-worker", "trace-api-clock"):
            eventually(lambda n=name: _tried(lambda: _set_image(kube, n, "a41c9e7")), timeout=30)
        for _ in range(12):  # pacing the fault, not waiting for anything
            time.sleep(1.5)
            sandbox.admin("POST", "faults/drop-streams")

        def accounted() -> dict[str, str] | None:
            said: dict[str, str] = {}
            for obj in (json.loads(x) for x in f.text()):
                pod = str(obj["pod"])
                if pod not in old:
                    continue
                if (obj.get("fields") or {}).get("event") == "gap":
                    said.setdefault(pod, "gap")
                elif LAST_WORDS[old[pod]] in str(obj.get("raw") or ""):
                    said[pod] = "lines"
            if set(said) != set(old):
                return None
            try:
                remaining = set(old) & set(_pods(kube))
            except KubeError:
                return None  # the api-errors fault: ask again
            return said if not remaining else None

        said = eventually(accounted, timeout=90, message="every old pod's last lines or a gap")
    finally:
        f.interrupt()
        print("follower stderr:", *f.stderr, sep="\n  ")  # shown when the test fails
    gaps = sorted(p for p, how in said.items() if how == "gap")
    warned = [line for line in f.stderr if "was deleted before its log could be resumed" in line]
    for pod in gaps:
        assert any(f"pod {pod} " in line for line in warned), (pod, f.stderr)
    print(f"run {run}: {len(old)} old pods, last lines of {len(old) - len(gaps)}, gaps reported for {gaps}")
    assert "Traceback" not in "\n".join(f.stderr)
