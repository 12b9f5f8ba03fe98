"""``rollout --once`` and ``rollout --until-complete`` against the sandbox (no terminal)."""

from __future__ import annotations

import threading
import time

IMAGE = "registry.sandbox.local/trace/trace-api"


def set_tag(kubectl, process: str, tag: str) -> None:
    """``kubectl set image deploy/trace-api-PROCESS PROCESS=IMAGE:TAG -n production``."""
    container_image = f"{process}={IMAGE}:{tag}"
    kubectl("set", "image", f"deploy/trace-api-{process}", container_image, "-n", "production", check=True)


def once(invoke, kubeconfig: str, *args: str, **options):
    """``rollout ARGS… --once`` in process: one frame, as into a pipe."""
    return invoke("rollout", *args, "--once", kubeconfig=kubeconfig, **options)


def until_complete(invoke, kubeconfig: str, target: str, *args: str):
    """``rollout TARGET -n production --until-complete ARGS…`` in process."""
    return invoke("rollout", target, "-n", "production", "--until-complete", *args, kubeconfig=kubeconfig)


def test_once_prints_one_frame_for_a_pipe(sandbox, invoke):
    result = once(invoke, sandbox.kubeconfig, "trace-api-web", "-n", "production", width=100)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.rstrip("\n").split("\n")
    assert lines[0].startswith(" nodeapp rollout · context nodeapp-sandbox · namespace production")
    assert all(len(line) <= 100 for line in lines)
    assert "\x1b[" not in result.stdout  # no colour into a pipe
    assert "─ Deployments · 4 " in result.stdout
    assert "▶ trace-api-web " in result.stdout
    for name in ("trace-api-clock", "trace-api-worker", "trace-ui"):
        assert f"  {name} " in result.stdout
    assert "─ Pods · 3 (" in result.stdout and "READINESS" in result.stdout and "LIVENESS" in result.stdout
    assert "─ Events " in result.stdout and "─ Logs · trace-api-web-" in result.stdout


def test_once_with_colour_when_asked(sandbox, invoke):
    result = once(invoke, sandbox.kubeconfig, "-n", "staging", "--color", "always", "--log-lines", "0")
    assert result.exit_code == 0, result.stderr
    assert "\x1b[" in result.stdout and "namespace staging" in result.stdout
    assert "─ Logs" not in result.stdout


def test_errors_are_one_line(sandbox, invoke):
    result = once(invoke, sandbox.kubeconfig, "nope", "-n", "production")
    assert result.exit_code == 1 and result.stderr.startswith("error: ") and "nope" in result.stderr
    assert "Traceback" not in result.stderr
    result = once(invoke, sandbox.kubeconfig, "-n", "no-such-namespace")
    assert result.exit_code == 1 and 'namespace "no-such-namespace" not found' in result.stderr
    result = invoke("rollout", "-n", "production", kubeconfig=sandbox.kubeconfig)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: the dashboard needs a terminal\n"
        "hint: use --once to print one frame, or --until-complete DEPLOYMENT to follow a rollout\n"
    )
    result = invoke("rollout", "--until-complete", kubeconfig=sandbox.kubeconfig)
    assert result.exit_code == 2 and "needs a DEPLOYMENT" in result.stderr


def test_until_complete_exits_0_on_success_and_1_on_a_stall(private_sandbox, kubectl_for, invoke):
    kubectl = kubectl_for(private_sandbox)
    kc = private_sandbox.kubeconfig
    set_tag(kubectl, "worker", "a41c9e7")
    result = until_complete(invoke, kc, "deploy/trace-api-worker")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "✓ deployment trace-api-worker successfully rolled out a41c9e7 (revision " in result.stdout
    assert "trace-api-worker: " in result.stdout  # progress lines on the way

    set_tag(kubectl, "web", "badc0de")
    started = time.monotonic()
    result = until_complete(invoke, kc, "trace-api-web")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stderr.startswith("✗ deployment trace-api-web stalled rolling out badc0de: ")
    assert "has timed out progressing" in result.stderr
    assert "readiness probe failing ×" in result.stderr and "statuscode: 503" in result.stderr
    assert "Warning Unhealthy pod/trace-api-web-" in result.stderr
    assert "rolling out 3f9c2a1 → badc0de" in result.stdout
    assert time.monotonic() - started < 120


def test_until_complete_timeout(private_sandbox, kubectl_for, invoke):
    kubectl = kubectl_for(private_sandbox)
    set_tag(kubectl, "web", "0000000")
    result = until_complete(invoke, private_sandbox.kubeconfig, "trace-api-web", "--timeout", "2s")
    assert result.exit_code == 1
    assert "did not finish rolling out 0000000 in time" in result.stderr
    assert "ImagePullBackOff" in result.stderr or "ErrImagePull" in result.stderr


def test_until_complete_rides_out_dropped_streams(private_sandbox, kubectl_for, invoke):
    kubectl = kubectl_for(private_sandbox)
    set_tag(kubectl, "web", "a41c9e7")
    stop = threading.Event()

    def cut() -> None:
        while not stop.wait(0.3):
            private_sandbox.admin("POST", "faults/drop-streams")

    cutter = threading.Thread(target=cut, daemon=True)
    cutter.start()
    try:
        result = until_complete(invoke, private_sandbox.kubeconfig, "trace-api-web")
    finally:
        stop.set()
        cutter.join(5)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "successfully rolled out a41c9e7" in result.stdout


def test_actions_pause_resume_restart_and_undo_through_the_api(private_sandbox, kube_for, kubectl_for):
    """What p, r and u do (the keys themselves are tested with pipe input), against the sandbox."""
    from kubectl_trace.dashboard.actions import perform
    from kubectl_trace.dashboard.ui import Action

    kube = kube_for(private_sandbox)

    def web() -> dict:
        return kube.get("deployments", "trace-api-web", "production")

    assert (
        perform(kube, Action("pause", "production", "trace-api-web")) == "paused the rollout of trace-api-web"
    )
    assert web()["spec"].get("paused") is True
    assert perform(kube, Action("pause", "production", "trace-api-web")) == "trace-api-web: already paused"
    assert (
        perform(kube, Action("resume", "production", "trace-api-web"))
        == "resumed the rollout of trace-api-web"
    )
    assert not web()["spec"].get("paused")

    before = web()["metadata"]["generation"]
    text = perform(kube, Action("restart", "production", "trace-api-web"), user="ana", now=1_772_366_400.0)
    assert text == "restarting every pod of trace-api-web"
    after = web()
    assert (
        after["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
        == "2026-03-01T12:00:00Z"
    )
    assert after["metadata"]["generation"] > before
    assert "restart by ana" in after["metadata"]["annotations"]["kubernetes.io/change-cause"]

    set_tag(kubectl_for(private_sandbox), "worker", "a41c9e7")
    history = {
        int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]): rs
        for rs in kube.list("replicasets", "production", label_selector="app=trace-api,process=worker").items
    }
    previous = sorted(history)[-2]
    text = perform(kube, Action("undo", "production", "trace-api-worker", revision=0))
    assert text == f"rolled back trace-api-worker to revision {previous} (3f9c2a1)"
    image = kube.get("deployments", "trace-api-worker", "production")["spec"]["template"]["spec"][
        "containers"
    ][0]["image"]
    assert image.endswith(":3f9c2a1")
